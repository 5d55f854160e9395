using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Tokenization;

/// <summary>
/// Every reference case of the real tokenizers in tests/fixtures/tokenizers (ids, ids with the post-processor's
/// special tokens, and transformers' decodes), which Hugging Face's Rust tokenizers library produced.
/// </summary>
public class HuggingFaceTokenizerReferenceTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in ReferenceTokenizers.Names)
        {
            int count = ReferenceTokenizers.Cases(Path.Combine(TestPaths.Fixtures, "tokenizers", name, "reference_encodings.json")).Count;
            for (int i = 0; i < count; i++) data.Add(name, i);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesHuggingFace(string name, int index)
    {
        var c = ReferenceTokenizers.Cases(Path.Combine(TestPaths.Fixtures, "tokenizers", name, "reference_encodings.json"))[index];
        var tokenizer = ReferenceTokenizers.Get(name);
        string text = c.GetProperty("text").GetString()!;
        var withSpecial = ReferenceTokenizers.Ids(c.GetProperty("ids_with_special_tokens"));

        Assert.Equal(ReferenceTokenizers.Ids(c.GetProperty("ids")), tokenizer.EncodeWithSpecialTokens(text));
        Assert.Equal(ReferenceTokenizers.Ids(c.GetProperty("ids")), tokenizer.EncodePrompt(text, addSpecialTokens: false));
        Assert.Equal(withSpecial, tokenizer.EncodePrompt(text));
        Assert.Equal(c.GetProperty("decode").GetString(), tokenizer.Decode(withSpecial, skipSpecialTokens: false));
        Assert.Equal(c.GetProperty("decode_skip_special_tokens").GetString(), tokenizer.Decode(withSpecial, skipSpecialTokens: true));
        var tokens = c.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()).ToArray();
        Assert.Equal(tokens, ReferenceTokenizers.Ids(c.GetProperty("ids")).Select(tokenizer.IdToToken).ToArray());
    }
}
