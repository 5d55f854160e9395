using System.Text.Json;

namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>
/// What <c>tokenizer_config.json</c> (and, for folders older than its <c>added_tokens_decoder</c>,
/// <c>special_tokens_map.json</c>) adds to tokenizer.json: which tokens are BOS and EOS, and whether a decode gets
/// transformers' <c>clean_up_tokenization_spaces</c>. Encoding follows tokenizer.json alone, as tokenizers does:
/// the config's <c>add_bos_token</c>/<c>add_eos_token</c> and <c>added_tokens_decoder</c> properties, which some
/// transformers classes apply on top, are not read (tokenizer.json's post-processor decides about BOS).
/// </summary>
internal sealed class TokenizerConfig
{
    public const string FileName = "tokenizer_config.json";
    public const string SpecialTokensMapFile = "special_tokens_map.json";

    private static readonly string[] NamedTokenKeys = ["bos_token", "eos_token"];

    /// <summary>Named tokens by key; a null value is a token the config sets to null.</summary>
    private readonly Dictionary<string, string?> _named = new(StringComparer.Ordinal);

    public string? TokenizerClass { get; private set; }

    /// <summary>transformers' default since 4.45 is false.</summary>
    public bool CleanUpTokenizationSpaces { get; private set; }

    public string? Bos => _named.GetValueOrDefault("bos_token");

    public string? Eos => _named.GetValueOrDefault("eos_token");

    /// <summary>Reads the folder's config; a folder without one gives the defaults.</summary>
    public static TokenizerConfig Load(string folder, Func<string, bool> isKnownToken)
    {
        var config = new TokenizerConfig();
        bool hasAddedTokensDecoder = false;
        ReadObject(Path.Combine(folder, FileName), (root, path) =>
        {
            config.TokenizerClass = root.TryGetProperty("tokenizer_class", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            config.CleanUpTokenizationSpaces = root.TryGetProperty("clean_up_tokenization_spaces", out var clean) && clean.ValueKind == JsonValueKind.True;
            config.ReadNamedTokens(root, path);
            hasAddedTokensDecoder = root.TryGetProperty("added_tokens_decoder", out _);
        });
        // transformers reads special_tokens_map.json only for configs that predate added_tokens_decoder.
        if (!hasAddedTokensDecoder) ReadObject(Path.Combine(folder, SpecialTokensMapFile), config.ReadNamedTokens);
        config.ApplyClassDefaults(isKnownToken);
        return config;
    }

    private static void ReadObject(string path, Action<JsonElement, string> read)
    {
        if (!File.Exists(path)) return;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: not a JSON object");
            read(doc.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Each named token as a string or an AddedToken object (<c>{"content": ...}</c>), or null.</summary>
    private void ReadNamedTokens(JsonElement root, string path)
    {
        foreach (string key in NamedTokenKeys)
        {
            if (!root.TryGetProperty(key, out var value)) continue;
            _named[key] = value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Object when value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String => content.GetString(),
                _ => throw new InvalidDataException($"{path}: {key} is neither a string nor an AddedToken object"),
            };
        }
    }

    /// <summary>
    /// The special tokens transformers' tokenizer classes assume when the config does not name them: GPT-2's
    /// <c>&lt;|endoftext|&gt;</c> (also for a config without tokenizer_class, as GPT-2's own has none), Llama's
    /// <c>&lt;s&gt;</c>/<c>&lt;/s&gt;</c>, Qwen2's <c>&lt;|endoftext|&gt;</c> EOS — where the tokenizer has them.
    /// </summary>
    private void ApplyClassDefaults(Func<string, bool> isKnownToken)
    {
        string name = (TokenizerClass ?? "").Replace("Fast", "", StringComparison.Ordinal);
        (string Key, string Content)[] defaults = name switch
        {
            "GPT2Tokenizer" or "" => [("bos_token", "<|endoftext|>"), ("eos_token", "<|endoftext|>")],
            "LlamaTokenizer" => [("bos_token", "<s>"), ("eos_token", "</s>")],
            "Qwen2Tokenizer" => [("eos_token", "<|endoftext|>")],
            _ => [],
        };
        foreach (var (key, content) in defaults)
        {
            if (!_named.ContainsKey(key) && isKnownToken(content)) _named[key] = content;
        }
    }
}
