using System.Text.Json.Nodes;
using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Tokenization;

/// <summary>What the tokenizer.json reader cannot run exactly, it refuses when loading, naming the file and the feature.</summary>
public class UnsupportedTokenizerTests
{
    public static TheoryData<string, string, string> Refusals() => new()
    {
        { "model", """{"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["a", -1.0]]}""", "model type 'Unigram'" },
        { "model", """{"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1}}""", "model type 'WordPiece'" },
        { "model", """{"type": "WordLevel", "unk_token": "<unk>", "vocab": {"<unk>": 0}}""", "model type 'WordLevel'" },
        { "model", """{"type": "BPE", "dropout": 0.1, "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}""", "dropout 0.1" },
        { "pre_tokenizer", """{"type": "BertPreTokenizer"}""", "pre_tokenizer type 'BertPreTokenizer'" },
        { "pre_tokenizer", """{"type": "Sequence", "pretokenizers": [{"type": "Punctuation", "behavior": "Isolated"}]}""", "pre_tokenizer type 'Punctuation'" },
        { "pre_tokenizer", """{"type": "Split", "pattern": {"Regex": "\\p{Han}+"}, "behavior": "Isolated", "invert": false}""", "\\p{Han}+" },
        { "pre_tokenizer", """{"type": "Split", "pattern": {"Regex": "[[:alpha:]]+"}, "behavior": "Isolated", "invert": false}""", "POSIX bracket" },
        { "pre_tokenizer", """{"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Sideways", "invert": false}""", "Split behavior 'Sideways'" },
        { "normalizer", """{"type": "Precompiled", "precompiled_charsmap": "AAAA"}""", "normalizer type 'Precompiled'" },
        { "normalizer", """{"type": "BertNormalizer", "clean_text": true}""", "normalizer type 'BertNormalizer'" },
        { "decoder", """{"type": "WordPiece", "prefix": "##", "cleanup": true}""", "decoder type 'WordPiece'" },
        { "decoder", """{"type": "CTC"}""", "decoder type 'CTC'" },
        { "post_processor", """{"type": "Unknown"}""", "post_processor type 'Unknown'" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void RefusedAtLoad(string component, string json, string feature)
    {
        using var temp = new TempFolder();
        var tokenizer = HuggingFaceTokenizerTests.MinimalTokenizerJson();
        tokenizer[component] = JsonNode.Parse(json);
        File.WriteAllText(temp.File("tokenizer.json"), tokenizer.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(temp.Path));
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains(feature, e.Message);
    }

    [Fact]
    public void MergeOfUnknownTokensIsRefused()
    {
        using var temp = new TempFolder();
        var tokenizer = HuggingFaceTokenizerTests.MinimalTokenizerJson();
        tokenizer["model"]!["merges"] = new JsonArray("a c");
        File.WriteAllText(temp.File("tokenizer.json"), tokenizer.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(temp.Path));
        Assert.Contains("'c' is not in the vocabulary", e.Message);
    }

    [Fact]
    public void MalformedJsonIsInvalidData()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("tokenizer.json"), "{\"model\": ");
        var e = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(temp.Path));
        Assert.Contains("tokenizer.json", e.Message);
    }
}
