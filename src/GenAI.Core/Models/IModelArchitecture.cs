namespace GenAI.Core.Models;

/// <summary>
/// One model architecture (a Hugging Face <c>model_type</c>): how its <c>config.json</c> reads and how its
/// module is built. Registered in <see cref="ModelArchitectures"/>.
/// </summary>
public interface IModelArchitecture
{
    /// <summary>The <c>model_type</c> value this architecture serves.</summary>
    string ModelType { get; }

    /// <summary>Reads and validates the architecture's config.</summary>
    ModelConfig ParseConfig(ConfigReader config);

    /// <summary>
    /// Builds the module on the CPU in float32 with uninitialized parameters (they are loaded or initialized next).
    /// </summary>
    CausalLanguageModel Create(ModelConfig config);
}
