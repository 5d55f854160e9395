using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> into a <see cref="TokenizerPipeline"/>, following the field names and
/// defaults of tokenizers' serialization. Whatever it cannot run exactly (another model type, an unknown component,
/// BPE dropout, a regex .NET cannot express the same way) is refused with an <see cref="InvalidDataException"/>
/// naming the file and the feature: a refusal beats a silent mis-tokenization. Truncation and padding are ignored:
/// transformers sets them per call, and prompts are neither truncated nor padded here.
/// </summary>
internal sealed class TokenizerJsonReader
{
    private readonly string _path;

    private TokenizerJsonReader(string path) => _path = path;

    public static TokenizerPipeline Read(string path)
    {
        var reader = new TokenizerJsonReader(path);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 256 });
            return reader.ReadRoot(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }
        catch (UnsupportedPatternException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or KeyNotFoundException)
        {
            // A JsonElement of the wrong kind (a string where an id belongs, ...) or a missing field.
            throw new InvalidDataException($"{path}: malformed: {e.Message}", e);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    private TokenizerPipeline ReadRoot(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Invalid("not a JSON object");
        if (root.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.String && version.GetString() != "1.0")
        {
            throw Unsupported($"version '{version.GetString()}'");
        }
        if (!root.TryGetProperty("model", out var modelJson) || modelJson.ValueKind != JsonValueKind.Object) throw Invalid("no model");
        var model = ReadModel(modelJson);
        var normalizer = Optional(root, "normalizer", ReadNormalizer);
        var pipeline = new TokenizerPipeline(
            model,
            normalizer,
            Optional(root, "pre_tokenizer", ReadPreTokenizer),
            null,
            Optional(root, "decoder", ReadDecoder));
        pipeline.AddTokens(ReadAddedTokens(root));
        pipeline.PostProcessor = Optional(root, "post_processor", p => ReadPostProcessor(p, pipeline));
        return pipeline;
    }

    private static T? Optional<T>(JsonElement parent, string name, Func<JsonElement, T> read) where T : class =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? read(value) : null;

    private List<AddedToken> ReadAddedTokens(JsonElement root)
    {
        var tokens = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var added) || added.ValueKind == JsonValueKind.Null) return tokens;
        foreach (var token in added.EnumerateArray())
        {
            string content = String(token, "content", "added_tokens");
            bool special = Bool(token, "special", false);
            tokens.Add(new AddedToken(content, special,
                SingleWord: Bool(token, "single_word", false),
                LeftStrip: Bool(token, "lstrip", false),
                RightStrip: Bool(token, "rstrip", false),
                Normalized: Bool(token, "normalized", !special)));
        }
        return tokens;
    }

    private BpeModel ReadModel(JsonElement model)
    {
        string type = model.TryGetProperty("type", out var t) ? t.GetString() ?? "" : model.TryGetProperty("merges", out _) ? "BPE" : "";
        if (type != "BPE") throw Unsupported($"model type '{type}'", "only BPE models are");
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind != JsonValueKind.Null && dropout.GetDouble() != 0)
        {
            throw Unsupported($"model dropout {dropout.GetDouble().ToString(CultureInfo.InvariantCulture)}", "only null is (dropout makes encoding random)");
        }
        if (!model.TryGetProperty("vocab", out var vocabJson) || vocabJson.ValueKind != JsonValueKind.Object) throw Invalid("model has no vocab object");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabJson.EnumerateObject())
        {
            int id = entry.Value.GetInt32();
            if (id < 0) throw Invalid($"model vocab: token '{entry.Name}' has negative id {id}");
            vocab[entry.Name] = id;
        }
        var merges = new List<(string, string)>();
        if (model.TryGetProperty("merges", out var mergesJson) && mergesJson.ValueKind == JsonValueKind.Array)
        {
            foreach (var merge in mergesJson.EnumerateArray())
            {
                if (merge.ValueKind == JsonValueKind.Array)
                {
                    if (merge.GetArrayLength() != 2) throw Invalid($"model merge {merges.Count + 1} is not a pair");
                    merges.Add((merge[0].GetString()!, merge[1].GetString()!));
                    continue;
                }
                string line = merge.GetString()!;
                if (line.StartsWith("#version", StringComparison.Ordinal)) continue;
                string[] parts = line.Split(' ');
                if (parts.Length != 2) throw Invalid($"model merge {merges.Count + 1} ('{line}') is not two tokens separated by one space");
                merges.Add((parts[0], parts[1]));
            }
        }
        var options = new BpeOptions
        {
            UnknownToken = NullableString(model, "unk_token"),
            FuseUnknown = Bool(model, "fuse_unk", false),
            ByteFallback = Bool(model, "byte_fallback", false),
            IgnoreMerges = Bool(model, "ignore_merges", false),
            ContinuingSubwordPrefix = NullableString(model, "continuing_subword_prefix"),
            EndOfWordSuffix = NullableString(model, "end_of_word_suffix"),
        };
        return new BpeModel(vocab, merges, options);
    }

    private TextNormalizer ReadNormalizer(JsonElement json)
    {
        string type = Type(json, "normalizer");
        return type switch
        {
            "NFC" => new UnicodeNormalizer(NormalizationForm.FormC),
            "NFD" => new UnicodeNormalizer(NormalizationForm.FormD),
            "NFKC" => new UnicodeNormalizer(NormalizationForm.FormKC),
            "NFKD" => new UnicodeNormalizer(NormalizationForm.FormKD),
            "Lowercase" => new LowercaseNormalizer(),
            "Prepend" => new PrependNormalizer(String(json, "prepend", "Prepend normalizer")),
            "Replace" => new ReplaceNormalizer(ReadPattern(json, "Replace normalizer"), String(json, "content", "Replace normalizer")),
            "Strip" => new StripNormalizer(Bool(json, "strip_left", true), Bool(json, "strip_right", true)),
            "StripAccents" => new StripAccentsNormalizer(),
            "ByteLevel" => new ByteLevelNormalizer(),
            "Sequence" => new SequenceNormalizer(Array(json, "normalizers", "Sequence normalizer").Select(ReadNormalizer).ToList()),
            _ => throw Unsupported($"normalizer type '{type}'"),
        };
    }

    private PreTokenizer ReadPreTokenizer(JsonElement json)
    {
        string type = Type(json, "pre_tokenizer");
        switch (type)
        {
            case "ByteLevel":
                return new ByteLevelPreTokenizer(Bool(json, "add_prefix_space", true), Bool(json, "use_regex", true));
            case "Split":
                return new SplitPreTokenizer(ReadPattern(json, "Split pre_tokenizer"), ReadBehavior(json), Bool(json, "invert", false));
            case "Digits":
                return new DigitsPreTokenizer(Bool(json, "individual_digits", false));
            case "Metaspace":
                return new MetaspacePreTokenizer(ReadChar(json, "replacement", "Metaspace pre_tokenizer"), ReadPrependScheme(json), Bool(json, "split", true));
            case "Whitespace":
                return new WhitespacePreTokenizer();
            case "WhitespaceSplit":
                return new WhitespaceSplitPreTokenizer();
            case "Sequence":
                return new SequencePreTokenizer(Array(json, "pretokenizers", "Sequence pre_tokenizer").Select(ReadPreTokenizer).ToList());
            default:
                throw Unsupported($"pre_tokenizer type '{type}'");
        }
    }

    private PostProcessor ReadPostProcessor(JsonElement json, TokenizerPipeline pipeline)
    {
        string type = Type(json, "post_processor");
        switch (type)
        {
            case "ByteLevel":
                return new IdentityPostProcessor();
            case "Sequence":
                return new SequencePostProcessor(Array(json, "processors", "Sequence post_processor").Select(p => ReadPostProcessor(p, pipeline)).ToList());
            case "TemplateProcessing":
                return ReadTemplate(json);
            case "BertProcessing" or "RobertaProcessing":
                return new SurroundingPostProcessor(ReadTokenPair(json, "cls", type), ReadTokenPair(json, "sep", type));
            default:
                throw Unsupported($"post_processor type '{type}'");
        }
    }

    private TemplatePostProcessor ReadTemplate(JsonElement json)
    {
        var specialTokens = new Dictionary<string, int[]>(StringComparer.Ordinal);
        if (json.TryGetProperty("special_tokens", out var specials) && specials.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in specials.EnumerateObject())
            {
                specialTokens[entry.Name] = entry.Value.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray();
            }
        }
        var pieces = new List<TemplatePiece>();
        var single = json.TryGetProperty("single", out var s) ? s : throw Invalid("TemplateProcessing has no single template");
        IEnumerable<JsonElement> items = single.ValueKind == JsonValueKind.String
            ? single.GetString()!.Split(' ').Select(p => JsonSerializer.SerializeToElement(p))
            : single.EnumerateArray();
        foreach (var item in items)
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                // "$A", "$B:1", "<s>", "<s>:0"
                string text = item.GetString()!;
                string id = text.Split(':')[0];
                pieces.Add(id.StartsWith('$')
                    ? new TemplatePiece(id is "$" or "$A" or "$a" || int.TryParse(id.AsSpan(1), out _), null)
                    : new TemplatePiece(false, SpecialIds(specialTokens, id)));
            }
            else if (item.TryGetProperty("Sequence", out var sequence))
            {
                pieces.Add(new TemplatePiece(String(sequence, "id", "TemplateProcessing") == "A", null));
            }
            else if (item.TryGetProperty("SpecialToken", out var special))
            {
                pieces.Add(new TemplatePiece(false, SpecialIds(specialTokens, String(special, "id", "TemplateProcessing"))));
            }
            else
            {
                throw Invalid("TemplateProcessing has a template piece that is neither Sequence nor SpecialToken");
            }
        }
        return new TemplatePostProcessor(pieces);
    }

    private int[] SpecialIds(Dictionary<string, int[]> specialTokens, string id) =>
        specialTokens.TryGetValue(id, out var ids) ? ids : throw Invalid($"TemplateProcessing names special token '{id}', which its special_tokens lack");

    private int ReadTokenPair(JsonElement json, string name, string type)
    {
        if (!json.TryGetProperty(name, out var pair) || pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2)
        {
            throw Invalid($"{type} has no [token, id] pair '{name}'");
        }
        return pair[1].GetInt32();
    }

    private TokenDecoder ReadDecoder(JsonElement json)
    {
        string type = Type(json, "decoder");
        return type switch
        {
            "ByteLevel" => new ByteLevelDecoder(),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder(ReadChar(json, "content", "Strip decoder"), Int(json, "start"), Int(json, "stop")),
            "Replace" => new ReplaceDecoder(ReadPattern(json, "Replace decoder"), String(json, "content", "Replace decoder")),
            "Metaspace" => new MetaspaceDecoder(ReadChar(json, "replacement", "Metaspace decoder"), ReadPrependScheme(json)),
            "Sequence" => new SequenceDecoder(Array(json, "decoders", "Sequence decoder").Select(ReadDecoder).ToList()),
            _ => throw Unsupported($"decoder type '{type}'"),
        };
    }

    private TextPattern ReadPattern(JsonElement json, string owner)
    {
        if (!json.TryGetProperty("pattern", out var pattern) || pattern.ValueKind != JsonValueKind.Object) throw Invalid($"{owner} has no pattern");
        try
        {
            if (pattern.TryGetProperty("String", out var literal)) return TextPattern.Literal(literal.GetString()!);
            if (pattern.TryGetProperty("Regex", out var regex)) return TextPattern.Regex(regex.GetString()!);
        }
        catch (UnsupportedPatternException e)
        {
            throw new InvalidDataException($"{_path}: {owner}: {e.Message}", e);
        }
        throw Invalid($"{owner} pattern is neither String nor Regex");
    }

    private SplitBehavior ReadBehavior(JsonElement json)
    {
        string behavior = String(json, "behavior", "Split pre_tokenizer");
        return Enum.TryParse<SplitBehavior>(behavior, ignoreCase: false, out var value) && Enum.IsDefined(value)
            ? value
            : throw Unsupported($"Split behavior '{behavior}'");
    }

    private PrependScheme ReadPrependScheme(JsonElement json)
    {
        // Older files write add_prefix_space instead; false means never.
        if (!json.TryGetProperty("prepend_scheme", out var scheme) || scheme.ValueKind == JsonValueKind.Null)
        {
            return json.TryGetProperty("add_prefix_space", out var add) && add.ValueKind == JsonValueKind.False ? PrependScheme.Never : PrependScheme.Always;
        }
        return scheme.GetString() switch
        {
            "always" => PrependScheme.Always,
            "first" => PrependScheme.First,
            "never" => PrependScheme.Never,
            var other => throw Unsupported($"Metaspace prepend_scheme '{other}'"),
        };
    }

    private char ReadChar(JsonElement json, string name, string owner)
    {
        string value = String(json, name, owner);
        return value.Length == 1 ? value[0] : throw Unsupported($"{owner} {name} '{value}'", "only one BMP character is");
    }

    private string Type(JsonElement json, string component)
    {
        if (json.ValueKind != JsonValueKind.Object || !json.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            throw Unsupported($"{component} without a type");
        }
        return type.GetString()!;
    }

    private string String(JsonElement json, string name, string owner) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Invalid($"{owner} has no string '{name}'");

    private static string? NullableString(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool Bool(JsonElement json, string name, bool fallback) =>
        json.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : fallback;

    private static int Int(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : 0;

    private IEnumerable<JsonElement> Array(JsonElement json, string name, string owner) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToList() : throw Invalid($"{owner} has no array '{name}'");

    private InvalidDataException Unsupported(string feature, string? supported = null) =>
        new($"{_path}: {feature} is not supported" + (supported is null ? "" : $" ({supported})"));

    private InvalidDataException Invalid(string problem) => new($"{_path}: {problem}");
}
