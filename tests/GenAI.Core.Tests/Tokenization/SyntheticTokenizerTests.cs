using System.Text.Json;
using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Tokenization;

/// <summary>
/// The small tokenizer.json files of tests/fixtures/tokenizers/synthetic, each exercising other parts of the format
/// (Prepend+Replace normalizers, Metaspace, Digits, every Split behavior, possessive regexes, added-token options,
/// subword prefixes, tokenizer_config.json overrides...), and more texts for the three real tokenizers, against ids
/// and decodes from Hugging Face's tokenizers library (see the folder's README.md).
/// </summary>
public class SyntheticTokenizerTests
{
    private static readonly string Folder = Path.Combine(TestPaths.Fixtures, "tokenizers", "synthetic");

    private static readonly Lazy<Dictionary<string, List<JsonElement>>> References = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder, "reference_encodings.json")));
        return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(c => c.Clone()).ToList());
    });

    private static readonly Dictionary<string, HuggingFaceTokenizer> Synthetic = [];

    /// <summary>A synthetic tokenizer of the folder, or one of the real ones.</summary>
    internal static HuggingFaceTokenizer Get(string name)
    {
        if (ReferenceTokenizers.Names.Contains(name)) return ReferenceTokenizers.Get(name);
        lock (Synthetic)
        {
            if (!Synthetic.TryGetValue(name, out var tokenizer)) Synthetic[name] = tokenizer = HuggingFaceTokenizer.Load(Path.Combine(Folder, name));
            return tokenizer;
        }
    }

    public static TheoryData<string> Names() => new(References.Value.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void MatchesHuggingFace(string name)
    {
        var tokenizer = Get(name);
        var failures = new List<string>();
        foreach (var c in References.Value[name])
        {
            // A field left out equals the one it defaults to (reference.js).
            string text = c.GetProperty("text").GetString()!;
            string ids = Ids(c, "ids", null);
            string withSpecial = Ids(c, "ids_with_special_tokens", ids);
            string splitSpecial = Ids(c, "ids_split_special", ids);
            string decode = c.TryGetProperty("decode", out var d) ? d.GetString()! : text;
            string decodeSkip = c.TryGetProperty("decode_skip_special_tokens", out var ds) ? ds.GetString()! : decode;
            var withSpecialIds = withSpecial.Length == 0 ? [] : withSpecial.Split(',').Select(int.Parse).ToArray();

            void Check(string what, string expected, string actual)
            {
                if (expected != actual) failures.Add($"{JsonSerializer.Serialize(text)} {what}: expected {expected}, got {actual}");
            }
            Check("EncodeWithSpecialTokens", ids, string.Join(",", tokenizer.EncodeWithSpecialTokens(text)));
            Check("EncodePrompt", withSpecial, string.Join(",", tokenizer.EncodePrompt(text)));
            Check("Encode", splitSpecial, string.Join(",", tokenizer.Encode(text)));
            Check("Decode", decode, tokenizer.Decode(withSpecialIds, skipSpecialTokens: false));
            Check("Decode skipping special tokens", decodeSkip, tokenizer.Decode(withSpecialIds, skipSpecialTokens: true));
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    private static string Ids(JsonElement c, string name, string? fallback) =>
        c.TryGetProperty(name, out var ids) ? string.Join(",", ids.EnumerateArray().Select(i => i.GetInt32())) : fallback!;
}
