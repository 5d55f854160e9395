using System.Globalization;
using GenAI.Core.Tokenization.HuggingFace;

namespace GenAI.Core.Tests.Tokenization;

/// <summary>
/// tokenizer.json regexes run with Oniguruma's meaning on .NET's engine; expected pieces are what tokenizers'
/// Split pre-tokenizer makes of them (its Node binding of the Rust crate, which compiles them with Oniguruma).
/// </summary>
public class OnigurumaRegexTests
{
    private const string Llama3 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private static List<string> Pieces(string pattern, string text)
    {
        var matches = new List<(int Start, int End)>();
        new OnigurumaRegex(pattern).FindMatches(text, matches);
        return matches.Where(m => m.End > m.Start).Select(m => text[m.Start..m.End]).ToList();
    }

    [Fact]
    public void CharactersOutsideTheBmpAreOneCodePointEach()
    {
        Assert.Equal(
            ["𝕳𝖊𝖑𝖑𝖔", " ", "𝟙𝟚𝟛", "𝟜", " it", "'𝐬", " it", "'ſ", " 👨‍👩‍👧", " 🇯🇵!!", " 𠀀x"],
            Pieces(Llama3, "𝕳𝖊𝖑𝖑𝖔 𝟙𝟚𝟛𝟜 it'𝐬 it'ſ 👨‍👩‍👧 🇯🇵!! 𠀀x"));
        Assert.Equal(
            ["𝕳𝖊𝖑𝖑𝖔", " 𝟙𝟚𝟛𝟜", " 👍🏽👍", " 𐍈x", "  ", "\t", "𝄞"],
            Pieces(ByteLevelPreTokenizer.Gpt2Pattern, "𝕳𝖊𝖑𝖑𝖔 𝟙𝟚𝟛𝟜 👍🏽👍 𐍈x  \t𝄞"));
    }

    [Fact]
    public void StandInsKeepTheCategoryAndMatchNoAsciiLetterCaseInsensitively()
    {
        var contractions = new System.Text.RegularExpressions.Regex("(?i:'s|'t|'re|'ve|'m|'ll|'d)");
        for (int category = 0; category < OnigurumaRegex.StandIns.Length; category++)
        {
            char standIn = OnigurumaRegex.StandIns[category];
            if (standIn == '\uFFFD') continue; // categories with no code point outside the BMP
            Assert.Equal((UnicodeCategory)category, CharUnicodeInfo.GetUnicodeCategory(standIn));
            Assert.False(char.IsWhiteSpace(standIn));
            Assert.DoesNotMatch(contractions, "'" + standIn);
        }
        foreach (var cp in new[] { 0x1D573, 0x1D7D9, 0x1F600, 0x1F3FD, 0x20000, 0x10348, 0x1D11E, 0xE0041, 0xF0000, 0x2FFFF, 0x11000, 0x1D167 })
        {
            Assert.Equal(CharUnicodeInfo.GetUnicodeCategory(cp), CharUnicodeInfo.GetUnicodeCategory(OnigurumaRegex.StandIn(cp)));
        }
    }

    [Theory]
    [InlineData(@"\p{N}{1,3}+", "1234567 12", new[] { "1234567", "12" })]           // Ruby: {n,m}+ repeats, it is not possessive
    [InlineData(@"\p{N}{1,3}", "1234567", new[] { "123", "456", "7" })]
    [InlineData(@"ca{2}?", "ca caa", new[] { "c", "caa" })]                             // Ruby: {n}? is optional, not lazy
    [InlineData(@" ?\p{L}++", "ab cd", new[] { "ab", " cd" })]                         // possessive
    [InlineData(@"\w+", "a½b Ⅻx ①y", new[] { "a½b", "Ⅻx", "y" })]                   // Oniguruma's \w
    [InlineData(@"[\w-]+", "a½b Ⅻx", new[] { "a", "b", "Ⅻx" })]                      // ... which differs inside a class
    [InlineData(@"(?i:'s|'t)", "'s 'S 'ſ 'T", new[] { "'s", "'S", "'ſ", "'T" })]      // ſ folds to s
    [InlineData(@"\b\w", "Zero\u200Bwidth\u200Cnon\u200Djoiners", new[] { "Z", "w", "n", "j" })]
    [InlineData(@"\h+|\x{2014}", "deadBEEF—z", new[] { "deadBEEF", "—" })]
    [InlineData(@"(?m:a.b)|^x", "a\nb\nx", new[] { "a\nb", "x" })]                      // Ruby's m is dot-all; ^ is a line anchor
    [InlineData(@"\p{L}{3,1}", "abcd", new[] { "abc", "d" })]                           // n > m: possessive {m,n}
    [InlineData(@"(?<=a)b|(?<n>c)\k<n>", "ab cc", new[] { "b", "cc" })]
    public void RubySyntaxMeansWhatOnigurumaMeans(string pattern, string text, string[] expected)
    {
        Assert.Equal(expected, Pieces(pattern, text));
    }

    [Theory]
    [InlineData(@"\p{Han}+")]
    [InlineData(@"[[:alpha:]]+")]
    [InlineData(@"[a-z&&[^aeiou]]")]
    [InlineData(@"\R")]
    [InlineData("[🚀]")]
    [InlineData(@"\x{1F680}")]
    [InlineData(@"(?i:ß)")]
    public void WhatCannotMeanTheSameIsRefused(string pattern)
    {
        Assert.Throws<UnsupportedPatternException>(() => new OnigurumaRegex(pattern));
    }
}
