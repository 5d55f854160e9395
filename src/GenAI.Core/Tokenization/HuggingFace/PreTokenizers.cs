using System.Globalization;
using System.Text;

namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>
/// A piece of text on its way to the model: <paramref name="Text"/> as the normalizer and pre-tokenizers left it;
/// <paramref name="StartsAtOrigin"/> when it begins at the start of the original input (Metaspace's
/// <c>prepend_scheme: first</c> prepends only there).
/// </summary>
internal readonly record struct PreToken(string Text, bool StartsAtOrigin);

/// <summary>A tokenizer.json pre-tokenizer: cuts (and may rewrite) each piece of text into smaller pieces.</summary>
internal abstract class PreTokenizer
{
    /// <summary>Appends the non-empty pieces <paramref name="piece"/> becomes.</summary>
    public abstract void Split(PreToken piece, List<PreToken> output);

    /// <summary>Appends the non-empty pieces of <paramref name="text"/> at <paramref name="ranges"/>.</summary>
    protected static void AddPieces(string text, bool startsAtOrigin, List<(int Start, int End)> ranges, List<PreToken> output)
    {
        foreach (var (start, end) in ranges)
        {
            if (end > start) output.Add(new PreToken(text[start..end], startsAtOrigin && start == 0));
        }
    }
}

/// <summary>ByteLevel: optional prefix space, GPT-2's split regex, then every UTF-8 byte as its alphabet character.</summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    /// <summary>GPT-2's pre-tokenizer regex, as tokenizers' ByteLevel writes it.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static readonly Lazy<OnigurumaRegex> Gpt2Regex = new(() => new OnigurumaRegex(Gpt2Pattern));

    public override void Split(PreToken piece, List<PreToken> output)
    {
        string text = piece.Text;
        if (addPrefixSpace && !text.StartsWith(' ')) text = " " + text;
        if (!useRegex)
        {
            if (text.Length > 0) output.Add(new PreToken(ByteLevelAlphabet.FromText(text), piece.StartsAtOrigin));
            return;
        }
        var matches = new List<(int Start, int End)>();
        Gpt2Regex.Value.FindMatches(text, matches);
        var ranges = SplitBehaviors.Apply(TextSegment.FromMatches(text.Length, matches), SplitBehavior.Isolated);
        foreach (var (start, end) in ranges)
        {
            if (end > start) output.Add(new PreToken(ByteLevelAlphabet.FromText(text[start..end]), piece.StartsAtOrigin && start == 0));
        }
    }
}

/// <summary>Split: cuts at the matches of a pattern (or, inverted, at what lies between them).</summary>
internal sealed class SplitPreTokenizer(TextPattern pattern, SplitBehavior behavior, bool invert) : PreTokenizer
{
    public override void Split(PreToken piece, List<PreToken> output)
    {
        var segments = pattern.Segment(piece.Text);
        if (invert) SplitBehaviors.Invert(segments);
        AddPieces(piece.Text, piece.StartsAtOrigin, SplitBehaviors.Apply(segments, behavior), output);
    }
}

/// <summary>Digits: numbers (Rust's <c>char::is_numeric</c>: Nd, Nl, No) apart, one by one or as runs.</summary>
internal sealed class DigitsPreTokenizer(bool individualDigits) : PreTokenizer
{
    public override void Split(PreToken piece, List<PreToken> output)
    {
        var segments = TextSegment.AtCharacters(piece.Text, Rune.IsNumber);
        var behavior = individualDigits ? SplitBehavior.Isolated : SplitBehavior.Contiguous;
        AddPieces(piece.Text, piece.StartsAtOrigin, SplitBehaviors.Apply(segments, behavior), output);
    }
}

/// <summary>Metaspace: spaces become the replacement character, which may be prepended, and words split before it.</summary>
internal sealed class MetaspacePreTokenizer(char replacement, PrependScheme prependScheme, bool split) : PreTokenizer
{
    public override void Split(PreToken piece, List<PreToken> output)
    {
        string text = piece.Text.Replace(' ', replacement);
        bool prepend = prependScheme switch
        {
            PrependScheme.Always => true,
            PrependScheme.First => piece.StartsAtOrigin,
            _ => false,
        };
        if (prepend && !text.StartsWith(replacement)) text = replacement + text;
        if (!split)
        {
            if (text.Length > 0) output.Add(piece with { Text = text });
            return;
        }
        var segments = TextSegment.AtCharacters(text, rune => rune.Value == replacement);
        AddPieces(text, piece.StartsAtOrigin, SplitBehaviors.Apply(segments, SplitBehavior.MergedWithNext), output);
    }
}

/// <summary>Metaspace's <c>prepend_scheme</c>.</summary>
internal enum PrependScheme
{
    Always,
    First,
    Never,
}

/// <summary>Whitespace: runs of word characters and runs of other non-space characters; whitespace dropped.</summary>
internal sealed class WhitespacePreTokenizer : PreTokenizer
{
    public override void Split(PreToken piece, List<PreToken> output)
    {
        // The regex \w+|[^\w\s]+ (Rust's Unicode \w), inverted and removed: keep the runs, drop what lies between.
        string text = piece.Text;
        var ranges = new List<(int Start, int End)>();
        int runStart = -1, index = 0;
        int runKind = 0; // 1: word, 2: other non-space
        foreach (var rune in text.EnumerateRunes())
        {
            int kind = UnicodeClasses.IsWordCharacter(rune) ? 1 : Rune.IsWhiteSpace(rune) ? 0 : 2;
            if (kind != runKind)
            {
                if (runKind != 0) ranges.Add((runStart, index));
                runStart = index;
                runKind = kind;
            }
            index += rune.Utf16SequenceLength;
        }
        if (runKind != 0) ranges.Add((runStart, index));
        AddPieces(text, piece.StartsAtOrigin, ranges, output);
    }
}

/// <summary>WhitespaceSplit: cuts at whitespace, which is dropped.</summary>
internal sealed class WhitespaceSplitPreTokenizer : PreTokenizer
{
    public override void Split(PreToken piece, List<PreToken> output)
    {
        var segments = TextSegment.AtCharacters(piece.Text, Rune.IsWhiteSpace);
        AddPieces(piece.Text, piece.StartsAtOrigin, SplitBehaviors.Apply(segments, SplitBehavior.Removed), output);
    }
}

/// <summary>Sequence: each pre-tokenizer in turn over all the pieces the previous ones made.</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<PreTokenizer> preTokenizers) : PreTokenizer
{
    public override void Split(PreToken piece, List<PreToken> output)
    {
        var current = new List<PreToken> { piece };
        var next = new List<PreToken>();
        foreach (var preTokenizer in preTokenizers)
        {
            next.Clear();
            foreach (var p in current) preTokenizer.Split(p, next);
            (current, next) = (next, current);
        }
        output.AddRange(current);
    }
}

/// <summary>Character classes of Rust's <c>regex</c> crate, which tokenizers uses outside its Oniguruma patterns.</summary>
internal static class UnicodeClasses
{
    /// <summary>
    /// <c>\w</c> of Rust's regex: Alphabetic, marks, decimal digits, connector punctuation and the joiners.
    /// Alphabetic is letters, letter numbers and Other_Alphabetic (marks, plus the circled and squared Latin letters).
    /// </summary>
    public static bool IsWordCharacter(Rune rune)
    {
        switch (Rune.GetUnicodeCategory(rune))
        {
            case UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.LetterNumber
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ConnectorPunctuation:
                return true;
        }
        int v = rune.Value;
        return v is 0x200C or 0x200D or (>= 0x24B6 and <= 0x24E9) or (>= 0x1F130 and <= 0x1F149)
            or (>= 0x1F150 and <= 0x1F169) or (>= 0x1F170 and <= 0x1F189);
    }
}
