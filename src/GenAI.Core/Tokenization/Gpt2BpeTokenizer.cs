using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace GenAI.Core.Tokenization;

/// <summary>
/// GPT-2's byte-level BPE from a model folder's <c>vocab.json</c> and <c>merges.txt</c>, encoding through
/// Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> with GPT-2's pre-tokenizer regex (its CodeGen tokenizer
/// is not GPT-2-exact). <c>&lt;|endoftext|&gt;</c> is EOS: it is never produced from text and decodes to nothing.
/// </summary>
public sealed partial class Gpt2BpeTokenizer : TextTokenizer
{
    /// <summary>GPT-2's vocabulary file.</summary>
    public const string VocabFile = "vocab.json";

    /// <summary>GPT-2's merges file.</summary>
    public const string MergesFile = "merges.txt";

    /// <summary>Hugging Face's tokenizer settings file.</summary>
    public const string ConfigFile = "tokenizer_config.json";

    private const string DefaultEos = "<|endoftext|>";

    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial Regex Gpt2PreTokenizerPattern();

    private readonly BpeTokenizer _bpe;
    private readonly byte[][] _tokenBytes;
    private readonly string _folder;

    private Gpt2BpeTokenizer(string folder, BpeTokenizer bpe, byte[][] tokenBytes, int? eosId, string? eos)
    {
        _folder = folder;
        _bpe = bpe;
        _tokenBytes = tokenBytes;
        EosTokenId = eosId;
        EosToken = eos;
    }

    /// <inheritdoc />
    public override int VocabSize => _tokenBytes.Length;

    /// <inheritdoc />
    public override int? EosTokenId { get; }

    /// <inheritdoc />
    public override string? EosToken { get; }

    /// <summary>True when <paramref name="folder"/> has GPT-2 tokenizer files.</summary>
    public static bool IsPresent(string folder) =>
        File.Exists(Path.Combine(folder, VocabFile)) && File.Exists(Path.Combine(folder, MergesFile));

    /// <summary>Loads the tokenizer of a model folder.</summary>
    public static Gpt2BpeTokenizer Load(string folder)
    {
        string vocabPath = Path.Combine(folder, VocabFile);
        Dictionary<string, int> vocab;
        try
        {
            vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllBytes(vocabPath))
                    ?? throw new InvalidDataException($"{vocabPath}: not a JSON object of token → id");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{vocabPath}: not valid JSON: {e.Message}", e);
        }
        var merges = File.ReadLines(Path.Combine(folder, MergesFile))
            .Where(line => line.Length > 0 && !line.StartsWith("#version", StringComparison.Ordinal))
            .ToList();

        string eos = ReadEosToken(folder) ?? DefaultEos;
        int? eosId = vocab.TryGetValue(eos, out int id) ? id : null;
        var bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(Gpt2PreTokenizerPattern(), null),
        });

        int size = vocab.Values.Max() + 1;
        var bytes = new byte[size][];
        foreach (var (token, tokenId) in vocab)
        {
            if (tokenId < 0) throw new InvalidDataException($"{vocabPath}: token '{token}' has negative id {tokenId}");
            bytes[tokenId] = tokenId == eosId ? [] : ByteLevelAlphabet.ToBytes(token);
        }
        for (int i = 0; i < size; i++) bytes[i] ??= [];
        return new Gpt2BpeTokenizer(folder, bpe, bytes, eosId, eosId is null ? null : eos);
    }

    /// <inheritdoc />
    public override IReadOnlyList<int> Encode(string text) => _bpe.EncodeToIds(text);

    /// <inheritdoc />
    public override ReadOnlySpan<byte> TokenBytes(int id)
    {
        CheckId(id);
        return _tokenBytes[id];
    }

    /// <inheritdoc />
    public override void Save(string modelDirectory)
    {
        Directory.CreateDirectory(modelDirectory);
        if (Path.GetFullPath(modelDirectory) == Path.GetFullPath(_folder)) return;
        File.Copy(Path.Combine(_folder, VocabFile), Path.Combine(modelDirectory, VocabFile), overwrite: true);
        File.Copy(Path.Combine(_folder, MergesFile), Path.Combine(modelDirectory, MergesFile), overwrite: true);
        string config = Path.Combine(_folder, ConfigFile);
        if (File.Exists(config))
        {
            File.Copy(config, Path.Combine(modelDirectory, ConfigFile), overwrite: true);
        }
        else
        {
            var json = new JsonObject { ["tokenizer_class"] = "GPT2Tokenizer", ["add_prefix_space"] = false };
            if (EosToken is not null)
            {
                json["bos_token"] = EosToken;
                json["eos_token"] = EosToken;
                json["unk_token"] = EosToken;
            }
            File.WriteAllText(Path.Combine(modelDirectory, ConfigFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
    }

    private static string? ReadEosToken(string folder)
    {
        string path = Path.Combine(folder, ConfigFile);
        if (!File.Exists(path)) return null;
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(path))?["eos_token"];
            // Hugging Face writes either "text" or an AddedToken object {"content": "text", ...}.
            return node switch
            {
                JsonValue value when value.TryGetValue(out string? text) => text,
                JsonObject added => (string?)added["content"],
                _ => null,
            };
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }
    }
}
