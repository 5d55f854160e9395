using System.Text.Json;

namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>
/// What transformers reads from <c>tokenizer_config.json</c> (and, for folders without <c>added_tokens_decoder</c>,
/// the older <c>special_tokens_map.json</c>) and applies on top of tokenizer.json when it loads a fast tokenizer:
/// the named special tokens (BOS, EOS, ...), added-token properties, <c>add_bos_token</c>/<c>add_eos_token</c> and
/// <c>clean_up_tokenization_spaces</c>.
/// </summary>
internal sealed class TokenizerConfig
{
    public const string FileName = "tokenizer_config.json";
    public const string SpecialTokensMapFile = "special_tokens_map.json";

    /// <summary>transformers' <c>SPECIAL_TOKENS_ATTRIBUTES</c> that name one token.</summary>
    private static readonly string[] NamedTokenKeys = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    private readonly Dictionary<string, AddedToken?> _named = new(StringComparer.Ordinal);

    public string? TokenizerClass { get; private set; }

    public bool CleanUpTokenizationSpaces { get; private set; }

    public bool? AddBosToken { get; private set; }

    public bool? AddEosToken { get; private set; }

    /// <summary><c>added_tokens_decoder</c>, by index.</summary>
    public List<AddedToken> AddedTokensDecoder { get; } = [];

    /// <summary><c>additional_special_tokens</c> and <c>extra_special_tokens</c>.</summary>
    public List<AddedToken> AdditionalSpecialTokens { get; } = [];

    public AddedToken? Bos => Named("bos_token");

    public AddedToken? Eos => Named("eos_token");

    /// <summary>A named special token (bos_token, ...); null when absent or null.</summary>
    public AddedToken? Named(string key) => _named.GetValueOrDefault(key);

    /// <summary>All named and additional special tokens (transformers' <c>all_special_tokens_extended</c>).</summary>
    public IEnumerable<AddedToken> AllSpecialTokens =>
        NamedTokenKeys.Select(Named).OfType<AddedToken>().Concat(AdditionalSpecialTokens);

    /// <summary>Reads the folder's config; a folder without one gives the defaults.</summary>
    public static TokenizerConfig Load(string folder, Func<string, bool> isKnownToken)
    {
        var config = new TokenizerConfig();
        bool hasAddedTokensDecoder = false;
        ReadObject(Path.Combine(folder, FileName), (root, path) =>
        {
            config.ReadConfig(root, path);
            hasAddedTokensDecoder = root.TryGetProperty("added_tokens_decoder", out _);
        });
        // transformers reads special_tokens_map.json only for configs that predate added_tokens_decoder.
        if (!hasAddedTokensDecoder)
        {
            ReadObject(Path.Combine(folder, SpecialTokensMapFile), (root, path) => config.ReadSpecialTokens(root, path, overwrite: true));
        }
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
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"{path}: malformed: {e.Message}", e);
        }
    }

    private void ReadConfig(JsonElement root, string path)
    {
        TokenizerClass = root.TryGetProperty("tokenizer_class", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        CleanUpTokenizationSpaces = root.TryGetProperty("clean_up_tokenization_spaces", out var clean) && clean.ValueKind == JsonValueKind.True;
        AddBosToken = OptionalBool(root, "add_bos_token");
        AddEosToken = OptionalBool(root, "add_eos_token");
        if (root.TryGetProperty("added_tokens_decoder", out var decoder) && decoder.ValueKind == JsonValueKind.Object)
        {
            var byIndex = new List<(long Index, AddedToken Token)>();
            foreach (var entry in decoder.EnumerateObject())
            {
                if (!long.TryParse(entry.Name, out long index)) throw new InvalidDataException($"{path}: added_tokens_decoder key '{entry.Name}' is not an index");
                byIndex.Add((index, ReadToken(entry.Value, path, special: false) ?? throw new InvalidDataException($"{path}: added_tokens_decoder {index} has no content")));
            }
            AddedTokensDecoder.AddRange(byIndex.OrderBy(t => t.Index).Select(t => t.Token));
        }
        ReadSpecialTokens(root, path, overwrite: true);
    }

    private void ReadSpecialTokens(JsonElement root, string path, bool overwrite)
    {
        foreach (string key in NamedTokenKeys)
        {
            if (!root.TryGetProperty(key, out var value)) continue;
            if (overwrite || !_named.ContainsKey(key)) _named[key] = ReadToken(value, path, special: true);
        }
        foreach (string key in new[] { "additional_special_tokens", "extra_special_tokens" })
        {
            if (!root.TryGetProperty(key, out var list)) continue;
            var tokens = list.ValueKind switch
            {
                JsonValueKind.Array => list.EnumerateArray().ToList(),
                JsonValueKind.Object => list.EnumerateObject().Select(p => p.Value).ToList(),
                _ => [],
            };
            foreach (var item in tokens)
            {
                if (ReadToken(item, path, special: true) is AddedToken token && !AdditionalSpecialTokens.Any(t => t.Content == token.Content))
                {
                    AdditionalSpecialTokens.Add(token);
                }
            }
        }
    }

    /// <summary>
    /// The special tokens transformers' tokenizer classes assume when the config does not name them: GPT-2's
    /// <c>&lt;|endoftext|&gt;</c> (also for a config without tokenizer_class, as GPT-2's own has none), Llama's
    /// <c>&lt;s&gt;</c>/<c>&lt;/s&gt;</c>/<c>&lt;unk&gt;</c>, Qwen2's <c>&lt;|endoftext|&gt;</c> EOS — where the vocabulary has them.
    /// </summary>
    private void ApplyClassDefaults(Func<string, bool> isKnownToken)
    {
        string name = (TokenizerClass ?? "").Replace("Fast", "", StringComparison.Ordinal);
        (string Key, string Content)[] defaults = name switch
        {
            "GPT2Tokenizer" or "" => [("bos_token", "<|endoftext|>"), ("eos_token", "<|endoftext|>"), ("unk_token", "<|endoftext|>")],
            "LlamaTokenizer" => [("bos_token", "<s>"), ("eos_token", "</s>"), ("unk_token", "<unk>")],
            "Qwen2Tokenizer" => [("eos_token", "<|endoftext|>"), ("unk_token", "<|endoftext|>"), ("pad_token", "<|endoftext|>")],
            _ => [],
        };
        foreach (var (key, content) in defaults)
        {
            if (!_named.ContainsKey(key) && isKnownToken(content)) _named[key] = new AddedToken(content, Special: true);
        }
    }

    /// <summary>
    /// Applies what transformers' fast-tokenizer constructor does after reading tokenizer.json: every token of
    /// <c>added_tokens_decoder</c> is added again (so its properties there win), then every named special token not
    /// yet added, all through tokenizers' <c>add_tokens</c>; with <c>add_bos_token</c>/<c>add_eos_token</c> written
    /// in the config, the post-processor becomes BOS + sequence + EOS as they say (Llama's tokenizer assumes BOS).
    /// </summary>
    public void ApplyTo(TokenizerPipeline pipeline)
    {
        var specialContents = AllSpecialTokens.Select(t => t.Content).ToHashSet(StringComparer.Ordinal);
        var toAdd = AddedTokensDecoder.Select(t => t with { Special = t.Special || specialContents.Contains(t.Content) }).ToList();
        var known = pipeline.AddedTokens.TokensById.Values.Select(t => t.Content).Concat(toAdd.Select(t => t.Content)).ToHashSet(StringComparer.Ordinal);
        foreach (var token in AllSpecialTokens)
        {
            if (known.Add(token.Content)) toAdd.Add(token with { Special = true });
        }
        pipeline.AddTokens(toAdd);

        if (AddBosToken is null && AddEosToken is null) return;
        bool llama = (TokenizerClass ?? "").Replace("Fast", "", StringComparison.Ordinal) == "LlamaTokenizer";
        var pieces = new List<TemplatePiece>();
        if ((AddBosToken ?? llama) && Bos is AddedToken bos && pipeline.TokenToId(bos.Content) is int bosId) pieces.Add(new TemplatePiece(false, [bosId]));
        pieces.Add(new TemplatePiece(true, null));
        if ((AddEosToken ?? false) && Eos is AddedToken eos && pipeline.TokenToId(eos.Content) is int eosId) pieces.Add(new TemplatePiece(false, [eosId]));
        pipeline.PostProcessor = new TemplatePostProcessor(pieces);
    }

    /// <summary>A token written as a string or as an AddedToken object; null for JSON null.</summary>
    private static AddedToken? ReadToken(JsonElement value, string path, bool special)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                return new AddedToken(value.GetString()!, Special: special);
            case JsonValueKind.Object:
                if (!value.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String) return null;
                bool isSpecial = OptionalBool(value, "special") ?? special;
                return new AddedToken(content.GetString()!, isSpecial,
                    SingleWord: OptionalBool(value, "single_word") ?? false,
                    LeftStrip: OptionalBool(value, "lstrip") ?? false,
                    RightStrip: OptionalBool(value, "rstrip") ?? false,
                    Normalized: OptionalBool(value, "normalized") ?? !isSpecial);
            default:
                throw new InvalidDataException($"{path}: a special token is neither a string nor an AddedToken object");
        }
    }

    private static bool? OptionalBool(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;
}
