using GenAI.Core.Checkpoints;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GenAI.Core.Tokenization;

/// <summary>A character that a <see cref="CharTokenizer"/> has no token for.</summary>
public sealed class UnknownTokenException(string message) : ArgumentException(message);

/// <summary>
/// A character-level tokenizer for training corpora (nanoGPT's shakespeare_char): one token per Unicode scalar
/// value of the corpus, ids in ordinal order of the characters. Saved in a model folder as
/// <c>char_tokenizer.json</c> (<c>{"type": "char", "vocab": ["\n", " ", "!", ...]}</c>, the id being the position)
/// plus a <c>tokenizer_config.json</c> naming the class. It has no EOS.
/// </summary>
public sealed class CharTokenizer : TextTokenizer
{
    /// <summary>The vocabulary file.</summary>
    public const string FileName = "char_tokenizer.json";

    private readonly string[] _vocab;
    private readonly byte[][] _bytes;
    private readonly Dictionary<Rune, int> _ids;

    private CharTokenizer(IEnumerable<Rune> vocabulary)
    {
        var runes = vocabulary.ToArray();
        _vocab = runes.Select(r => r.ToString()).ToArray();
        _bytes = _vocab.Select(Encoding.UTF8.GetBytes).ToArray();
        _ids = runes.Select((r, i) => (r, i)).ToDictionary(x => x.r, x => x.i);
    }

    /// <summary>The characters, by id.</summary>
    public IReadOnlyList<string> Vocabulary => _vocab;

    /// <inheritdoc />
    public override int VocabSize => _vocab.Length;

    /// <inheritdoc />
    public override int? EosTokenId => null;

    /// <inheritdoc />
    public override string? EosToken => null;

    /// <summary>The tokenizer of a corpus: its distinct characters, sorted.</summary>
    public static CharTokenizer FromCorpus(string text)
    {
        if (text.Length == 0) throw new ArgumentException("the corpus is empty", nameof(text));
        return new CharTokenizer(text.EnumerateRunes().Distinct().Order());
    }

    /// <summary>True when <paramref name="folder"/> has a character tokenizer.</summary>
    public static bool IsPresent(string folder) => File.Exists(Path.Combine(folder, FileName));

    /// <summary>Loads the tokenizer saved in a model folder.</summary>
    public static CharTokenizer Load(string folder)
    {
        string path = Path.Combine(folder, FileName);
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                       ?? throw new InvalidDataException($"{path}: not a JSON object");
            var vocab = (root["vocab"] as JsonArray ?? throw new InvalidDataException($"{path}: no vocab array"))
                .Select(n => n?.GetValue<string>() ?? throw new InvalidDataException($"{path}: vocab holds a non-string"))
                .ToList();
            var runes = new List<Rune>();
            foreach (string entry in vocab)
            {
                var entryRunes = entry.EnumerateRunes().ToList();
                if (entryRunes.Count != 1) throw new InvalidDataException($"{path}: vocab entry '{entry}' is not one character");
                runes.Add(entryRunes[0]);
            }
            if (runes.Count == 0 || runes.Distinct().Count() != runes.Count) throw new InvalidDataException($"{path}: vocab is empty or repeats a character");
            return new CharTokenizer(runes);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public override IReadOnlyList<int> Encode(string text, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested(); // one pass, character by character: nothing long to interrupt
        var ids = new List<int>(text.Length);
        int position = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (!_ids.TryGetValue(rune, out int id))
            {
                throw new UnknownTokenException($"character {Describe(rune)} at position {position} is not in this model's {VocabSize}-character vocabulary");
            }
            ids.Add(id);
            position += rune.Utf16SequenceLength;
        }
        return ids;
    }

    /// <inheritdoc />
    public override ReadOnlySpan<byte> TokenBytes(int id)
    {
        CheckId(id);
        return _bytes[id];
    }

    /// <inheritdoc />
    public override void Save(string modelDirectory)
    {
        Directory.CreateDirectory(modelDirectory);
        var options = new JsonSerializerOptions { WriteIndented = true };
        var vocab = new JsonArray(_vocab.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray());
        Write(Path.Combine(modelDirectory, FileName), new JsonObject { ["type"] = "char", ["vocab"] = vocab }.ToJsonString(options));
        Write(Path.Combine(modelDirectory, Gpt2BpeTokenizer.ConfigFile),
            new JsonObject { ["tokenizer_class"] = nameof(CharTokenizer), ["model_max_length"] = null }.ToJsonString(options));
    }

    private static void Write(string path, string content)
    {
        DurableFiles.WriteAllText(path, content);
    }

    private static string Describe(Rune rune) =>
        Rune.IsControl(rune) || Rune.IsWhiteSpace(rune) ? $"U+{rune.Value:X4}" : $"'{rune}' (U+{rune.Value:X4})";
}
