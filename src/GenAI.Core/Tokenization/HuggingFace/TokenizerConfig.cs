using System.Text.Json;

namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>
/// What <c>tokenizer_config.json</c> (and, for folders older than its <c>added_tokens_decoder</c>,
/// <c>special_tokens_map.json</c>) adds to tokenizer.json, read and applied as transformers' fast tokenizers do
/// (what vLLM serves with):
/// <list type="bullet">
/// <item>the named special tokens (BOS, EOS, unk, sep, pad, cls, mask, <c>additional_special_tokens</c>, with the
/// defaults of the tokenizer class): the one place they are resolved, for the tokenizer's BOS/EOS and the chat
/// template's <c>bos_token</c>/<c>eos_token</c> alike;</item>
/// <item><c>PreTrainedTokenizerFast.__init__</c>: the <c>added_tokens_decoder</c> entries whose properties differ
/// from tokenizer.json's are added again (their rstrip/lstrip/single_word/normalized/special win, as tokenizers'
/// <c>add_tokens</c> applies them), and named tokens the tokenizer lacks as added tokens are added as special;</item>
/// <item>the Llama-family classes (<c>LlamaTokenizer</c>, <c>CodeLlamaTokenizer</c>, <c>GemmaTokenizer</c>, fast or
/// not): <c>update_post_processor</c> replaces tokenizer.json's post-processor by
/// <c>[bos] $A [eos]</c> from <c>add_bos_token</c> (default true) and <c>add_eos_token</c> (default false);</item>
/// <item>whether a decode gets transformers' <c>clean_up_tokenization_spaces</c>.</item>
/// </list>
/// </summary>
internal sealed class TokenizerConfig
{
    public const string FileName = "tokenizer_config.json";
    public const string SpecialTokensMapFile = "special_tokens_map.json";

    /// <summary>Older transformers' file of added tokens (not read: tokenizer.json has them), kept with the tokenizer.</summary>
    public const string AddedTokensFile = "added_tokens.json";

    /// <summary>transformers' <c>SPECIAL_TOKENS_ATTRIBUTES</c> but the list, in its order.</summary>
    private static readonly string[] NamedTokenKeys = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    private const string AdditionalKey = "additional_special_tokens";

    /// <summary>The tokenizer classes whose transformers <c>__init__</c> rebuilds the post-processor (v4).</summary>
    private static readonly string[] LlamaFamilyClasses = ["LlamaTokenizer", "CodeLlamaTokenizer", "GemmaTokenizer"];

    /// <summary>Named tokens by key; a null value is a token the config sets to null.</summary>
    private readonly Dictionary<string, NamedToken?> _named = new(StringComparer.Ordinal);

    private readonly List<NamedToken> _additional = [];

    /// <summary><c>added_tokens_decoder</c>'s tokens by id; null when the config has none (a legacy config).</summary>
    private SortedDictionary<int, AddedToken>? _addedTokensDecoder;

    private string _path = FileName;

    public string? TokenizerClass { get; private set; }

    /// <summary>transformers' default since 4.45 is false.</summary>
    public bool CleanUpTokenizationSpaces { get; private set; }

    /// <summary>The config's <c>add_bos_token</c>, or null when it does not say.</summary>
    public bool? AddBosToken { get; private set; }

    /// <summary>The config's <c>add_eos_token</c>, or null when it does not say.</summary>
    public bool? AddEosToken { get; private set; }

    public string? Bos => _named.GetValueOrDefault("bos_token")?.Content;

    public string? Eos => _named.GetValueOrDefault("eos_token")?.Content;

    /// <summary>True for the classes whose transformers tokenizer decides about BOS/EOS from the config.</summary>
    public bool IsLlamaFamily => LlamaFamilyClasses.Contains((TokenizerClass ?? "").Replace("Fast", "", StringComparison.Ordinal));

    /// <summary>
    /// transformers' <c>special_tokens_map</c>, what <c>apply_chat_template</c> passes to the template: each named
    /// token that is set, and <c>additional_special_tokens</c> when there are any.
    /// </summary>
    public Dictionary<string, object?> TemplateVariables()
    {
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (string key in NamedTokenKeys)
        {
            if (_named.GetValueOrDefault(key)?.Content is { Length: > 0 } token) variables[key] = token;
        }
        if (_additional.Count > 0) variables[AdditionalKey] = _additional.Select(t => (object?)t.Content).ToList();
        return variables;
    }

    /// <summary>
    /// Reads the folder's config; a folder without one gives the defaults. <paramref name="isKnownToken"/> says
    /// which of the tokenizer class's default tokens exist (null: no vocabulary at hand, no class defaults).
    /// </summary>
    public static TokenizerConfig Load(string folder, Func<string, bool>? isKnownToken)
    {
        var config = new TokenizerConfig { _path = Path.Combine(folder, FileName) };
        ReadObject(config._path, (root, path) =>
        {
            config.TokenizerClass = root.TryGetProperty("tokenizer_class", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            config.CleanUpTokenizationSpaces = root.TryGetProperty("clean_up_tokenization_spaces", out var clean) && clean.ValueKind == JsonValueKind.True;
            config.AddBosToken = OptionalBool(root, "add_bos_token");
            config.AddEosToken = OptionalBool(root, "add_eos_token");
            if (root.TryGetProperty("added_tokens_decoder", out var decoder)) config._addedTokensDecoder = ReadAddedTokensDecoder(decoder, path);
            config.ReadNamedTokens(root, path, fromMap: false);
        });
        // transformers reads special_tokens_map.json only for configs that predate added_tokens_decoder; then its
        // tokens win over the config's, and its additional tokens join the config's.
        if (config._addedTokensDecoder is null)
        {
            ReadObject(Path.Combine(folder, SpecialTokensMapFile), (root, path) => config.ReadNamedTokens(root, path, fromMap: true));
        }
        if (isKnownToken is not null) config.ApplyClassDefaults(isKnownToken);
        return config;
    }

    /// <summary>
    /// Applies what transformers' tokenizer classes add on top of tokenizer.json (see the class summary) to a
    /// pipeline read from it. Throws <see cref="InvalidDataException"/> naming the config when a Llama-family
    /// tokenizer is asked to add a BOS or EOS it has no token for (transformers refuses it too).
    /// </summary>
    public void ApplyTo(TokenizerPipeline pipeline)
    {
        pipeline.AddTokens(TokensTransformersAdds(pipeline.AddedTokens.TokensById.Values));
        if (IsLlamaFamily) pipeline.PostProcessor = LlamaPostProcessor(pipeline);
    }

    /// <summary>
    /// <c>PreTrainedTokenizerFast.__init__</c>'s tokens to add: the <c>added_tokens_decoder</c> entries (by id) not
    /// equal to an added token of tokenizer.json, then the named tokens — each one written as an AddedToken, and
    /// those written as a string that no added token has — special when named.
    /// </summary>
    private List<AddedToken> TokensTransformersAdds(IEnumerable<AddedToken> existing)
    {
        var current = existing.ToHashSet();
        var toAdd = (_addedTokensDecoder?.Values ?? Enumerable.Empty<AddedToken>()).Where(t => !current.Contains(t)).ToList();
        var encoder = current.Select(t => t.Content).Concat(toAdd.Select(t => t.Content)).ToHashSet(StringComparer.Ordinal);
        var named = NamedTokenKeys.Select(k => _named.GetValueOrDefault(k)).OfType<NamedToken>().Concat(_additional).ToList();
        var fromDecoder = toAdd.ToHashSet();
        foreach (var token in named)
        {
            if (token.Token is { } added)
            {
                // An AddedToken never equals a string in transformers' check, so it is added again (a no-op when
                // tokenizers already has it as it is).
                if (!fromDecoder.Contains(added)) toAdd.Add(added);
            }
            else if (!encoder.Contains(token.Content))
            {
                toAdd.Add(new AddedToken(token.Content, Special: true));
            }
        }
        var specialContents = named.Select(t => t.Content).ToHashSet(StringComparer.Ordinal);
        return toAdd.Select(t => !t.Special && specialContents.Contains(t.Content) ? t with { Special = true } : t).ToList();
    }

    /// <summary>transformers' <c>update_post_processor</c>: <c>[bos:0] $A:0 [eos:0]</c>.</summary>
    private TemplatePostProcessor LlamaPostProcessor(TokenizerPipeline pipeline)
    {
        var pieces = new List<TemplatePiece>();
        if (AddBosToken ?? true) pieces.Add(new TemplatePiece(false, [SpecialId(pipeline, Bos, "add_bos_token", "bos_token")]));
        pieces.Add(new TemplatePiece(true, null));
        if (AddEosToken ?? false) pieces.Add(new TemplatePiece(false, [SpecialId(pipeline, Eos, "add_eos_token", "eos_token")]));
        return new TemplatePostProcessor(pieces);
    }

    private int SpecialId(TokenizerPipeline pipeline, string? token, string flag, string key)
    {
        if (token is null) throw new InvalidDataException($"{_path}: {flag} is true but there is no {key}");
        return pipeline.TokenToId(token) ?? throw new InvalidDataException($"{_path}: {flag} is true but {key} '{token}' is not in the tokenizer");
    }

    private static bool? OptionalBool(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;

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

    /// <summary><c>{"id": {"content": ..., "special": ..., ...}}</c>, each as transformers' <c>AddedToken(**entry)</c>.</summary>
    private static SortedDictionary<int, AddedToken> ReadAddedTokensDecoder(JsonElement decoder, string path)
    {
        if (decoder.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: added_tokens_decoder is not an object");
        var tokens = new SortedDictionary<int, AddedToken>();
        foreach (var entry in decoder.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id)
                || entry.Value.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}: added_tokens_decoder entry '{entry.Name}' is not an id with an AddedToken object");
            }
            tokens[id] = ReadAddedToken(entry.Value, null, $"added_tokens_decoder[{entry.Name}]", path);
        }
        return tokens;
    }

    /// <summary>
    /// An AddedToken object as Python's <c>AddedToken(**value)</c> builds it: flags false unless given,
    /// <c>normalized</c> defaulting to not special; <paramref name="special"/> forces the flag.
    /// </summary>
    private static AddedToken ReadAddedToken(JsonElement value, bool? special, string key, string path)
    {
        if (!value.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
        {
            throw new InvalidDataException($"{path}: {key} has no string content");
        }
        bool Flag(string name, bool fallback) =>
            value.TryGetProperty(name, out var flag) && flag.ValueKind is JsonValueKind.True or JsonValueKind.False ? flag.GetBoolean() : fallback;
        bool isSpecial = special ?? Flag("special", false);
        return new AddedToken(content.GetString()!, isSpecial, Flag("single_word", false), Flag("lstrip", false), Flag("rstrip", false), Flag("normalized", !isSpecial));
    }

    /// <summary>
    /// Each named token as a string or an AddedToken object (<c>{"content": ...}</c>), or null. As transformers
    /// does, a config's token that <c>added_tokens_decoder</c> holds becomes that entry; special_tokens_map.json's
    /// objects are special.
    /// </summary>
    private void ReadNamedTokens(JsonElement root, string path, bool fromMap)
    {
        foreach (string key in NamedTokenKeys)
        {
            if (!root.TryGetProperty(key, out var value)) continue;
            _named[key] = value.ValueKind == JsonValueKind.Null ? null : Named(value, key, path, fromMap, fromDecoder: true);
        }
        if (root.TryGetProperty(AdditionalKey, out var additional) && additional.ValueKind == JsonValueKind.Array)
        {
            foreach (var value in additional.EnumerateArray())
            {
                var token = Named(value, AdditionalKey, path, fromMap, fromDecoder: false);
                if (!_additional.Any(t => t.Content == token.Content)) _additional.Add(token);
            }
        }
    }

    private NamedToken Named(JsonElement value, string key, string path, bool fromMap, bool fromDecoder)
    {
        NamedToken token;
        if (value.ValueKind == JsonValueKind.String)
        {
            token = new NamedToken(value.GetString()!, null);
        }
        else if (value.ValueKind == JsonValueKind.Object)
        {
            var added = ReadAddedToken(value, fromMap ? true : null, key, path);
            token = new NamedToken(added.Content, added);
        }
        else
        {
            throw new InvalidDataException($"{path}: {key} is neither a string nor an AddedToken object");
        }
        // transformers: init_kwargs[key] = added_tokens_map.get(str(value), value), for all but the additional list.
        if (fromDecoder && _addedTokensDecoder?.Values.LastOrDefault(t => t.Content == token.Content) is { } entry) return token with { Token = entry };
        return token;
    }

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
            if (!_named.ContainsKey(key) && isKnownToken(content)) _named[key] = new NamedToken(content, null);
        }
    }

    /// <summary>A named token: its content, and the AddedToken it was written as (or found in added_tokens_decoder).</summary>
    private sealed record NamedToken(string Content, AddedToken? Token);
}
