using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Core.Checkpoints;

namespace GenAI.Core.Models;

/// <summary>
/// What every architecture's <c>config.json</c> tells the rest of GenAI: vocabulary, context window, shape and
/// special tokens. Each architecture derives its own config with the fields of its Hugging Face config class.
/// </summary>
public abstract class ModelConfig
{
    /// <summary>The config file's name in a Hugging Face model folder.</summary>
    public const string FileName = "config.json";

    /// <summary>Hugging Face's <c>model_type</c>, which picks the architecture.</summary>
    public abstract string ModelType { get; }

    /// <summary>Number of token ids the model scores.</summary>
    public required int VocabSize { get; init; }

    /// <summary>The longest sequence (prompt plus generated tokens) the model can attend over.</summary>
    public abstract int ContextLength { get; }

    /// <summary>Number of transformer blocks.</summary>
    public abstract int LayerCount { get; }

    /// <summary>Width of the residual stream.</summary>
    public abstract int HiddenSize { get; }

    /// <summary>
    /// The end-of-sequence token ids (<c>eos_token_id</c> may be one id or a list, as Llama 3's is): each one ends
    /// generation.
    /// </summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>The beginning-of-sequence token id, if the model has one.</summary>
    public int? BosTokenId { get; init; }

    /// <summary>The Hugging Face class name of the model (<c>architectures[0]</c>, e.g. <c>LlamaForCausalLM</c>).</summary>
    public abstract string ArchitectureName { get; }

    /// <summary>The config as Hugging Face writes it, for saving a model folder its tools read back.</summary>
    public abstract JsonObject ToJson();

    /// <summary>Reads <c>config.json</c> of <paramref name="folder"/>, choosing the architecture by its <c>model_type</c>.</summary>
    public static ModelConfig Load(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new CheckpointException(folder, null, $"no {FileName} in the model folder");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, null, $"is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new CheckpointException(path, null, "is not a JSON object");
            var reader = new ConfigReader(path, root);
            string modelType = reader.String("model_type") ?? throw new CheckpointException(path, null, "has no model_type");
            return ModelArchitectures.Get(modelType, path).ParseConfig(reader);
        }
    }
}
