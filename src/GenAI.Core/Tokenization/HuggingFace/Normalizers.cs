using System.Buffers;
using System.Text;

namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>
/// A tokenizer.json normalizer: rewrites each piece of text between added tokens before pre-tokenization.
/// The <c>startsAtOrigin</c> argument of <see cref="TextNormalizer.Normalize"/> follows whether the normalized text
/// still begins where its original text began: only Metaspace's <c>prepend_scheme: first</c> asks, and only a
/// normalizer that deletes leading characters changes it.
/// </summary>
internal abstract class TextNormalizer
{
    public abstract string Normalize(string text, ref bool startsAtOrigin);
}

/// <summary>
/// NFC, NFD, NFKC or NFKD. .NET refuses to normalize a string holding U+FFFE or an unpaired surrogate
/// (ArgumentException) where Rust normalizes any string; such characters, like the other BMP noncharacters, have
/// no decomposition and compose with nothing (starters of combining class 0), so the text between them is
/// normalized piece by piece and they stay as they are: exactly the normalization of the whole.
/// </summary>
internal sealed class UnicodeNormalizer(NormalizationForm form) : TextNormalizer
{
    // The BMP noncharacters and the surrogates (paired ones are skipped below).
    private static readonly SearchValues<char> Candidates = SearchValues.Create(
        "\uFFFE\uFFFF" + new string(Enumerable.Range(0xFDD0, 32).Select(c => (char)c).ToArray())
        + new string(Enumerable.Range(0xD800, 0x800).Select(c => (char)c).ToArray()));

    public override string Normalize(string text, ref bool startsAtOrigin)
    {
        int first = text.AsSpan().IndexOfAny(Candidates);
        if (first < 0) return text.Normalize(form);
        var result = new StringBuilder(text.Length);
        int start = 0;
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }
            if (!Candidates.Contains(c)) continue;
            if (i > start) result.Append(text[start..i].Normalize(form));
            result.Append(c);
            start = i + 1;
        }
        if (start < text.Length) result.Append(text[start..].Normalize(form));
        return result.ToString();
    }
}

/// <summary>Lowercase: Rust's <c>char::to_lowercase</c>, the full (not locale) mapping.</summary>
internal sealed class LowercaseNormalizer : TextNormalizer
{
    public override string Normalize(string text, ref bool startsAtOrigin)
    {
        var result = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            // İ is the one character whose full lowercase mapping is two characters (i + combining dot above).
            if (rune.Value == 0x130) result.Append("i\u0307");
            else result.Append(Rune.ToLowerInvariant(rune).ToString());
        }
        return result.ToString();
    }
}

/// <summary>Prepend: puts a string before any non-empty text.</summary>
internal sealed class PrependNormalizer(string prefix) : TextNormalizer
{
    public override string Normalize(string text, ref bool startsAtOrigin) => text.Length == 0 ? text : prefix + text;
}

/// <summary>Replace: every match of a pattern becomes the content.</summary>
internal sealed class ReplaceNormalizer(TextPattern pattern, string content) : TextNormalizer
{
    public override string Normalize(string text, ref bool startsAtOrigin)
    {
        if (content.Length == 0 && startsAtOrigin)
        {
            var matches = new List<(int Start, int End)>();
            pattern.FindMatches(text, matches);
            if (matches.Count > 0 && matches[0].Start == 0 && matches[0].End > 0) startsAtOrigin = false;
        }
        return pattern.Replace(text, content);
    }
}

/// <summary>Strip: removes leading and/or trailing whitespace.</summary>
internal sealed class StripNormalizer(bool left, bool right) : TextNormalizer
{
    public override string Normalize(string text, ref bool startsAtOrigin)
    {
        int start = 0, end = text.Length;
        if (left) while (start < end && char.IsWhiteSpace(text[start])) start++;
        if (right) while (end > start && char.IsWhiteSpace(text[end - 1])) end--;
        if (start > 0) startsAtOrigin = false;
        return text[start..end];
    }
}

/// <summary>StripAccents: removes combining marks (general category M).</summary>
internal sealed class StripAccentsNormalizer : TextNormalizer
{
    public override string Normalize(string text, ref bool startsAtOrigin)
    {
        var result = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (IsMark(rune))
            {
                if (result.Length == 0) startsAtOrigin = false;
                continue;
            }
            result.Append(rune.ToString());
        }
        return result.ToString();
    }

    private static bool IsMark(Rune rune) => Rune.GetUnicodeCategory(rune) is
        System.Globalization.UnicodeCategory.NonSpacingMark or
        System.Globalization.UnicodeCategory.SpacingCombiningMark or
        System.Globalization.UnicodeCategory.EnclosingMark;
}

/// <summary>ByteLevel as a normalizer: every UTF-8 byte written as its byte-level alphabet character.</summary>
internal sealed class ByteLevelNormalizer : TextNormalizer
{
    public override string Normalize(string text, ref bool startsAtOrigin) => ByteLevelAlphabet.FromText(text);
}

/// <summary>Sequence: the normalizers in order.</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<TextNormalizer> normalizers) : TextNormalizer
{
    public override string Normalize(string text, ref bool startsAtOrigin)
    {
        foreach (var normalizer in normalizers) text = normalizer.Normalize(text, ref startsAtOrigin);
        return text;
    }
}
