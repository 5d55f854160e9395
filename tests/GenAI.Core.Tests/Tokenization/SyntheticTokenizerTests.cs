using System.Text.Json;
using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Tokenization;

/// <summary>
/// Small tokenizer.json files in tests/fixtures/tokenizers/synthetic, each exercising other parts of the format
/// (Prepend+Replace normalizers, Metaspace, Digits, every Split behavior, possessive regexes, added-token options,
/// subword prefixes...), against ids and decodes from Hugging Face's tokenizers library (see the folder's README).
/// </summary>
public class SyntheticTokenizerTests
{
    private static readonly string Folder = Path.Combine(TestPaths.Fixtures, "tokenizers", "synthetic");

    private static readonly Lazy<Dictionary<string, List<JsonElement>>> References = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder, "reference_encodings.json")));
        return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(c => c.Clone()).ToList());
    });

    private static readonly Dictionary<string, HuggingFaceTokenizer> Tokenizers = [];

    private static HuggingFaceTokenizer Get(string name)
    {
        lock (Tokenizers)
        {
            if (!Tokenizers.TryGetValue(name, out var tokenizer)) Tokenizers[name] = tokenizer = HuggingFaceTokenizer.Load(Path.Combine(Folder, name));
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
            string text = c.GetProperty("text").GetString()!;
            var withSpecial = ReferenceTokenizers.Ids(c.GetProperty("ids_with_special_tokens"));
            void Check<T>(string what, T expected, T actual)
            {
                if (!EqualityComparer<T>.Default.Equals(expected, actual)) failures.Add($"{JsonSerializer.Serialize(text)} {what}: expected {expected}, got {actual}");
            }
            Check("ids", string.Join(",", ReferenceTokenizers.Ids(c.GetProperty("ids"))), string.Join(",", tokenizer.EncodeWithSpecialTokens(text)));
            Check("ids_with_special_tokens", string.Join(",", withSpecial), string.Join(",", tokenizer.EncodePrompt(text)));
            Check("ids_split_special", string.Join(",", ReferenceTokenizers.Ids(c.GetProperty("ids_split_special"))), string.Join(",", tokenizer.Encode(text)));
            Check("decode", c.GetProperty("decode").GetString(), tokenizer.Decode(withSpecial, skipSpecialTokens: false));
            Check("decode_skip_special_tokens", c.GetProperty("decode_skip_special_tokens").GetString(), tokenizer.Decode(withSpecial, skipSpecialTokens: true));
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }
}
