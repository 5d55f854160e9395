using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Tokenization;

public class CharTokenizerTests
{
    [Fact]
    public void VocabularyIsTheSortedCharactersOfTheCorpus()
    {
        var tokenizer = CharTokenizer.FromCorpus("hello world\n");
        Assert.Equal(["\n", " ", "d", "e", "h", "l", "o", "r", "w"], tokenizer.Vocabulary);
        Assert.Equal([4, 3, 5, 5, 6], tokenizer.Encode("hello"));
        Assert.Equal("world\n", tokenizer.Decode(tokenizer.Encode("world\n")));
        Assert.Null(tokenizer.EosTokenId);
    }

    [Fact]
    public void TinyShakespeareHas65Characters()
    {
        var tokenizer = CharTokenizer.FromCorpus(File.ReadAllText(TestPaths.TinyShakespeare));
        Assert.Equal(65, tokenizer.VocabSize);
    }

    [Fact]
    public void UnknownCharacterIsNamedWithItsPosition()
    {
        var tokenizer = CharTokenizer.FromCorpus("abc");
        var e = Assert.Throws<UnknownTokenException>(() => tokenizer.Encode("ab€"));
        Assert.Contains("'€'", e.Message);
        Assert.Contains("position 2", e.Message);
    }

    [Fact]
    public void EmojiAndCjkAreSingleTokensAndStreamWhole()
    {
        var tokenizer = CharTokenizer.FromCorpus("a日本🚀👍🏽");
        var ids = tokenizer.Encode("日🚀a👍🏽");
        Assert.Equal(5, ids.Count);
        var detokenizer = tokenizer.CreateStreamingDetokenizer();
        var pieces = ids.Select(detokenizer.Push).Append(detokenizer.Flush()).ToList();
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
        Assert.Equal("日🚀a👍🏽", string.Concat(pieces));
    }

    [Fact]
    public void SavesAndLoadsBackFromAModelFolder()
    {
        using var temp = new TempFolder();
        var tokenizer = CharTokenizer.FromCorpus("To be, or not to be?\n🚀");
        tokenizer.Save(temp.Path);
        var loaded = TokenizerLoader.Load(temp.Path);
        var chars = Assert.IsType<CharTokenizer>(loaded);
        Assert.Equal(tokenizer.Vocabulary, chars.Vocabulary);
        Assert.Equal(tokenizer.Encode("not to be🚀"), loaded.Encode("not to be🚀"));
    }

    [Fact]
    public void EmptyFolderHasNoTokenizer()
    {
        using var temp = new TempFolder();
        var e = Assert.Throws<FileNotFoundException>(() => TokenizerLoader.Load(temp.Path));
        Assert.Contains(temp.Path, e.Message);
        Assert.Contains("vocab.json", e.Message);
    }
}
