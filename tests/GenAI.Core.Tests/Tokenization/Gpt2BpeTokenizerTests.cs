using System.Text.Json;
using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Tokenization;

public sealed class Gpt2BpeTokenizerTests(Gpt2TokenizerFixture fixture) : IClassFixture<Gpt2TokenizerFixture>
{
    private readonly TextTokenizer _tokenizer = fixture.Tokenizer;

    public static IEnumerable<object[]> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.Gpt2Tiny, "reference_tokenizer.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => new object[] { c.GetProperty("text").GetString()!, c.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray() })
            .ToList();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncodesAndDecodesLikeGpt2(string text, int[] ids)
    {
        Assert.Equal(ids, _tokenizer.Encode(text));
        Assert.Equal(text, _tokenizer.Decode(ids));
    }

    [Fact]
    public void EndOfTextIsSpecial()
    {
        Assert.Equal(50256, _tokenizer.EosTokenId);
        Assert.Equal("<|endoftext|>", _tokenizer.EosToken);
        Assert.Equal(50257, _tokenizer.VocabSize);
        var ids = _tokenizer.Encode("a<|endoftext|>b");
        Assert.DoesNotContain(50256, ids);
        Assert.Equal("a<|endoftext|>b", _tokenizer.Decode(ids));
        Assert.Equal("ab", _tokenizer.Decode([64, 50256, 65]));
    }

    [Theory]
    [InlineData("Hi 👋🏽 there 🇯🇵!")]
    [InlineData("日本語のテキスト")]
    [InlineData("naïve café — “quotes” ½ ∑ π")]
    [InlineData("mixed 🚀日本 ascii")]
    public void StreamingNeverEmitsBrokenCharacters(string text)
    {
        var ids = _tokenizer.Encode(text);
        var detokenizer = _tokenizer.CreateStreamingDetokenizer();
        var pieces = ids.Select(detokenizer.Push).Append(detokenizer.Flush()).ToList();
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
        Assert.Equal(_tokenizer.Decode(ids), string.Concat(pieces));
        Assert.Equal(text, string.Concat(pieces));
        Assert.Contains(pieces, p => p.Length == 0);
    }

    [Fact]
    public void StreamingOfInvalidBytesMatchesDecode()
    {
        // Byte tokens of an emoji out of order: invalid UTF-8, replaced the same way streamed and whole.
        var emoji = _tokenizer.Encode("🚀");
        var ids = emoji.Reverse().Concat(_tokenizer.Encode(" ok")).Concat(emoji.Take(1)).ToList();
        var detokenizer = _tokenizer.CreateStreamingDetokenizer();
        var streamed = string.Concat(ids.Select(detokenizer.Push)) + detokenizer.Flush();
        Assert.Equal(_tokenizer.Decode(ids), streamed);
    }

    [Fact]
    public void SavedFolderLoadsBack()
    {
        using var temp = new TempFolder();
        _tokenizer.Save(temp.Path);
        var loaded = TokenizerLoader.Load(temp.Path);
        Assert.IsType<Gpt2BpeTokenizer>(loaded);
        Assert.Equal(_tokenizer.Encode("Hello, world"), loaded.Encode("Hello, world"));
        Assert.Equal(50256, loaded.EosTokenId);
    }
}
