using GenAI.Core.Checkpoints;
using GenAI.Core.Models.Gpt2;
using GenAI.Core.Models.Llama;

namespace GenAI.Core.Models;

/// <summary>The architectures GenAI can run, by Hugging Face <c>model_type</c>.</summary>
public static class ModelArchitectures
{
    private static readonly Dictionary<string, IModelArchitecture> Known =
        ((IModelArchitecture[])[Gpt2Architecture.Instance, .. LlamaFamily.All]).ToDictionary(a => a.ModelType, StringComparer.Ordinal);

    /// <summary>The supported <c>model_type</c> values.</summary>
    public static IEnumerable<string> ModelTypes => Known.Keys;

    /// <summary>The architecture for <paramref name="modelType"/>; <paramref name="configPath"/> is named in the error otherwise.</summary>
    public static IModelArchitecture Get(string modelType, string configPath) =>
        Known.TryGetValue(modelType, out var architecture)
            ? architecture
            : throw new CheckpointException(configPath, null, $"unsupported model_type '{modelType}' (supported: {string.Join(", ", Known.Keys)})");
}
