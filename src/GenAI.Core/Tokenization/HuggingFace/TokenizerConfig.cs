using System.Text.Json;

namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>
/// What <c>tokenizer_config.json</c> (and, for folders older than its <c>added_tokens_decoder</c>,
/// <c>special_tokens_map.json</c>) adds to tokenizer.json, read as transformers reads it: the named special tokens
/// (BOS, EOS, unk, sep, pad, cls, mask, <c>additional_special_tokens</c>, with the defaults of the tokenizer class)
/// and whether a decode gets transformers' <c>clean_up_tokenization_spaces</c>. The one place those tokens are
/// resolved: the tokenizer's BOS/EOS and the chat template's <c>bos_token</c>/<c>eos_token</c> both come from here.
/// </summary>
internal sealed class TokenizerConfig
{
    public const string FileName = "tokenizer_config.json";
    public const string SpecialTokensMapFile = "special_tokens_map.json";

    /// <summary>transformers' <c>SPECIAL_TOKENS_ATTRIBUTES</c> but the list, in its order.</summary>
    private static readonly string[] NamedTokenKeys = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    private const string AdditionalKey = "additional_special_tokens";

    /// <summary>Named tokens by key; a null value is a token the config sets to null.</summary>
    private readonly Dictionary<string, string?> _named = new(StringComparer.Ordinal);

    private readonly List<string> _additional = [];

    public string? TokenizerClass { get; private set; }

    /// <summary>transformers' default since 4.45 is false.</summary>
    public bool CleanUpTokenizationSpaces { get; private set; }

    public string? Bos => _named.GetValueOrDefault("bos_token");

    public string? Eos => _named.GetValueOrDefault("eos_token");

    /// <summary>
    /// transformers' <c>special_tokens_map</c>, what <c>apply_chat_template</c> passes to the template: each named
    /// token that is set, and <c>additional_special_tokens</c> when there are any.
    /// </summary>
    public Dictionary<string, object?> TemplateVariables()
    {
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (string key in NamedTokenKeys)
        {
            if (_named.GetValueOrDefault(key) is { Length: > 0 } token) variables[key] = token;
        }
        if (_additional.Count > 0) variables[AdditionalKey] = _additional.Cast<object?>().ToList();
        return variables;
    }

    /// <summary>
    /// Reads the folder's config; a folder without one gives the defaults. <paramref name="isKnownToken"/> says
    /// which of the tokenizer class's default tokens exist (null: no vocabulary at hand, no class defaults).
    /// </summary>
    public static TokenizerConfig Load(string folder, Func<string, bool>? isKnownToken)
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
        // transformers reads special_tokens_map.json only for configs that predate added_tokens_decoder; then its
        // tokens win over the config's, and its additional tokens join the config's.
        if (!hasAddedTokensDecoder) ReadObject(Path.Combine(folder, SpecialTokensMapFile), config.ReadNamedTokens);
        if (isKnownToken is not null) config.ApplyClassDefaults(isKnownToken);
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
            if (root.TryGetProperty(key, out var value)) _named[key] = value.ValueKind == JsonValueKind.Null ? null : Content(value, key, path);
        }
        if (root.TryGetProperty(AdditionalKey, out var additional) && additional.ValueKind == JsonValueKind.Array)
        {
            foreach (var token in additional.EnumerateArray())
            {
                string content = Content(token, AdditionalKey, path);
                if (!_additional.Contains(content)) _additional.Add(content);
            }
        }
    }

    private static string Content(JsonElement value, string key, string path) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Object when value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String => content.GetString()!,
        _ => throw new InvalidDataException($"{path}: {key} is neither a string nor an AddedToken object"),
    };

    /// <summary>
    /// The special tokens transformers' tokenizer classes assume when the config does not name them: GPT-2's
    /// <c>&lt;|endoftext|&gt;</c> (also for a config without tokenizer_class, as GPT-2's own has none), Llama's
    /// <c>&lt;s&gt;</c>/<c>&lt;/s&gt;</c>/<c>&lt;unk&gt;</c>, Gemma's, Qwen2's <c>&lt;|endoftext|&gt;</c> — where the
    /// tokenizer has them (transformers would add a missing one as a new token; that is not followed).
    /// </summary>
    private void ApplyClassDefaults(Func<string, bool> isKnownToken)
    {
        string name = (TokenizerClass ?? "").Replace("Fast", "", StringComparison.Ordinal);
        (string Key, string Content)[] defaults = name switch
        {
            "GPT2Tokenizer" or "" => [("bos_token", "<|endoftext|>"), ("eos_token", "<|endoftext|>"), ("unk_token", "<|endoftext|>")],
            "LlamaTokenizer" or "CodeLlamaTokenizer" => [("bos_token", "<s>"), ("eos_token", "</s>"), ("unk_token", "<unk>")],
            "GemmaTokenizer" => [("bos_token", "<bos>"), ("eos_token", "<eos>"), ("unk_token", "<unk>"), ("pad_token", "<pad>")],
            "Qwen2Tokenizer" => [("eos_token", "<|endoftext|>"), ("unk_token", "<|endoftext|>"), ("pad_token", "<|endoftext|>")],
            _ => [],
        };
        foreach (var (key, content) in defaults)
        {
            if (!_named.ContainsKey(key) && isKnownToken(content)) _named[key] = content;
        }
    }
}
