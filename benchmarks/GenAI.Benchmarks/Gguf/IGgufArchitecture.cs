using System.Text.Json;

namespace GenAI.Benchmarks.Gguf;

/// <summary>What convert_hf_to_gguf.py does for one Hugging Face model type: its hyperparameter keys and tensor names.</summary>
internal interface IGgufArchitecture
{
    /// <summary><c>general.architecture</c>, the prefix of the architecture's keys (<c>gpt2</c>, <c>llama</c>).</summary>
    string Name { get; }

    /// <summary>The ids the model scores (<c>vocab_size</c>).</summary>
    int VocabSize { get; }

    /// <summary>Adds the <c>{arch}.*</c> hyperparameters read from config.json.</summary>
    void AddHyperParameters(GgufWriter writer);

    /// <summary>Adds keys of the architecture's vocabulary handling beyond the shared GPT-2 BPE keys.</summary>
    void AddTokenizerOptions(GgufWriter writer, string folder);

    /// <summary>The GGUF tensors made from the checkpoint tensor <paramref name="checkpointName"/> (none for buffers llama.cpp does not need).</summary>
    IEnumerable<GgufTensorSource> Map(string checkpointName);
}

/// <summary>Reads config.json values as convert_hf_to_gguf.py's <c>find_hparam</c> does.</summary>
internal static class HyperParameters
{
    public static int Int(JsonElement config, params string[] names) =>
        TryInt(config, names) ?? throw new InvalidDataException($"config.json has none of {string.Join(", ", names)}");

    public static int? TryInt(JsonElement config, params string[] names)
    {
        foreach (string name in names)
        {
            if (config.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number) return value.GetInt32();
        }
        return null;
    }

    public static float? TryFloat(JsonElement config, string name) =>
        config.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetSingle() : null;
}
