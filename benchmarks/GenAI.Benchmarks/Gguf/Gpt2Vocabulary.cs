using System.Text.Json;

namespace GenAI.Benchmarks.Gguf;

/// <summary>
/// A GPT-2 byte-level BPE vocabulary (<c>vocab.json</c> + <c>merges.txt</c>) as convert_hf_to_gguf.py's
/// <c>_set_vocab_gpt2</c> writes it: <c>tokenizer.ggml.model = gpt2</c>, the pre-tokenizer <c>gpt-2</c>, every id's token
/// string (ids the vocabulary lacks as <c>[PADi]</c>, unused), token types (the tokenizer's special tokens are control
/// tokens), the merges, and the BOS/EOS ids of <c>config.json</c> (gguf-py's <c>SpecialVocab</c> without a tokenizer.json).
/// </summary>
internal sealed class Gpt2Vocabulary
{
    private Gpt2Vocabulary(List<string> tokens, List<int> types, List<string> merges)
    {
        Tokens = tokens;
        Types = types;
        Merges = merges;
    }

    /// <summary>Token strings by id, as vocab.json spells them (byte-level: "Ġthe").</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary><see cref="GgufTokenType"/> of each token, by id.</summary>
    public IReadOnlyList<int> Types { get; }

    /// <summary>Merge rules "left right", in priority order.</summary>
    public IReadOnlyList<string> Merges { get; }

    /// <summary>Reads <paramref name="folder"/>'s vocabulary for a model scoring <paramref name="vocabSize"/> ids.</summary>
    public static Gpt2Vocabulary Load(string folder, int vocabSize)
    {
        string vocabPath = Path.Combine(folder, "vocab.json"), mergesPath = Path.Combine(folder, "merges.txt");
        if (!File.Exists(vocabPath) || !File.Exists(mergesPath))
        {
            throw new FileNotFoundException($"{folder} has no vocab.json + merges.txt (the exporter writes GPT-2 byte-level BPE vocabularies)");
        }
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))!;
        if (vocab.Values.Max() >= vocabSize)
        {
            throw new InvalidDataException($"vocab.json has id {vocab.Values.Max()} but the model scores only {vocabSize} ids");
        }
        var special = SpecialTokens(folder);
        var byId = vocab.ToDictionary(p => p.Value, p => p.Key);
        var tokens = new List<string>(vocabSize);
        var types = new List<int>(vocabSize);
        for (int id = 0; id < vocabSize; id++)
        {
            if (byId.TryGetValue(id, out string? token))
            {
                tokens.Add(token);
                types.Add((int)(special.Contains(token) ? GgufTokenType.Control : GgufTokenType.Normal));
            }
            else
            {
                tokens.Add($"[PAD{id}]");
                types.Add((int)GgufTokenType.Unused);
            }
        }
        var merges = File.ReadLines(mergesPath)
            .Where((line, index) => !(index == 0 && line.StartsWith('#')) && line.Length > 0)
            .ToList();
        return new Gpt2Vocabulary(tokens, types, merges);
    }

    /// <summary>Adds the <c>tokenizer.ggml.*</c> keys; the special ids come from <paramref name="config"/> (config.json).</summary>
    public void AddTo(GgufWriter writer, JsonElement config)
    {
        writer.AddString("tokenizer.ggml.model", "gpt2");
        writer.AddString("tokenizer.ggml.pre", "gpt-2");
        writer.AddStringArray("tokenizer.ggml.tokens", Tokens);
        writer.AddInt32Array("tokenizer.ggml.token_type", Types);
        writer.AddStringArray("tokenizer.ggml.merges", Merges);
        foreach (var (configKey, ggufKey) in new[] { ("bos_token_id", "tokenizer.ggml.bos_token_id"), ("eos_token_id", "tokenizer.ggml.eos_token_id"), ("pad_token_id", "tokenizer.ggml.padding_token_id") })
        {
            if (!config.TryGetProperty(configKey, out var value)) continue;
            if (value.ValueKind == JsonValueKind.Array) value = value.EnumerateArray().FirstOrDefault();
            if (value.ValueKind == JsonValueKind.Number) writer.AddUInt32(ggufKey, value.GetUInt32());
        }
    }

    /// <summary>The tokens tokenizer_config.json names as bos/eos/unk/pad or lists as special added tokens.</summary>
    private static HashSet<string> SpecialTokens(string folder)
    {
        var special = new HashSet<string>(StringComparer.Ordinal);
        string path = Path.Combine(folder, "tokenizer_config.json");
        if (!File.Exists(path)) return special;
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;
        foreach (string key in new[] { "bos_token", "eos_token", "unk_token", "pad_token" })
        {
            if (!root.TryGetProperty(key, out var token)) continue;
            if (token.ValueKind == JsonValueKind.String) special.Add(token.GetString()!);
            else if (token.ValueKind == JsonValueKind.Object && token.TryGetProperty("content", out var content)) special.Add(content.GetString()!);
        }
        if (root.TryGetProperty("added_tokens_decoder", out var added) && added.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in added.EnumerateObject())
            {
                if (entry.Value.TryGetProperty("special", out var isSpecial) && isSpecial.GetBoolean()) special.Add(entry.Value.GetProperty("content").GetString()!);
            }
        }
        return special;
    }
}
