using System.Text;

namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>
/// The pattern of a Split pre-tokenizer or a Replace normalizer or decoder: <c>{"String": "…"}</c> (a literal) or
/// <c>{"Regex": "…"}</c> (Oniguruma syntax). Finds matches as tokenizers' <c>Pattern::find_matches</c> does.
/// </summary>
internal sealed class TextPattern
{
    private readonly string? _literal;
    private readonly OnigurumaRegex? _regex;

    private TextPattern(string? literal, OnigurumaRegex? regex)
    {
        _literal = literal;
        _regex = regex;
    }

    /// <summary>A literal (an empty literal matches the empty string between every two characters, as its escaped regex does).</summary>
    public static TextPattern Literal(string text) => text.Length == 0 ? new(null, new OnigurumaRegex("")) : new(text, null);

    public static TextPattern Regex(string pattern) => new(null, new OnigurumaRegex(pattern));

    public override string ToString() => _literal is not null ? $"'{_literal}'" : $"regex '{_regex!.Pattern}'";

    /// <summary>The non-overlapping (start, end) ranges of the matches, left to right.</summary>
    public void FindMatches(string text, List<(int Start, int End)> matches)
    {
        if (_regex is not null)
        {
            _regex.FindMatches(text, matches);
            return;
        }
        int from = 0;
        while (from <= text.Length - _literal!.Length)
        {
            int at = text.IndexOf(_literal, from, StringComparison.Ordinal);
            if (at < 0) break;
            matches.Add((at, at + _literal.Length));
            from = at + _literal.Length;
        }
    }

    /// <summary>The text cut at the matches into pieces covering all of it, each flagged as a match or not.</summary>
    public List<TextSegment> Segment(string text)
    {
        var matches = new List<(int Start, int End)>();
        FindMatches(text, matches);
        return TextSegment.FromMatches(text.Length, matches);
    }

    /// <summary>Every match replaced by <paramref name="content"/>.</summary>
    public string Replace(string text, string content)
    {
        var matches = new List<(int Start, int End)>();
        FindMatches(text, matches);
        if (matches.Count == 0) return text;
        var result = new StringBuilder(text.Length + matches.Count * content.Length);
        int previous = 0;
        foreach (var (start, end) in matches)
        {
            result.Append(text, previous, start - previous).Append(content);
            previous = end;
        }
        return result.Append(text, previous, text.Length - previous).ToString();
    }
}

/// <summary>A piece of a text between or at the matches of a pattern.</summary>
internal readonly record struct TextSegment(int Start, int End, bool IsMatch)
{
    /// <summary>tokenizers' find_matches result: gaps and matches in order; an empty text is one empty gap.</summary>
    public static List<TextSegment> FromMatches(int length, List<(int Start, int End)> matches)
    {
        var segments = new List<TextSegment>(matches.Count * 2 + 1);
        if (length == 0)
        {
            segments.Add(new(0, 0, false));
            return segments;
        }
        int previous = 0;
        foreach (var (start, end) in matches)
        {
            if (previous != start) segments.Add(new(previous, start, false));
            segments.Add(new(start, end, true));
            previous = end;
        }
        if (previous != length) segments.Add(new(previous, length, false));
        return segments;
    }

    /// <summary>Cuts at every code point that <paramref name="isDelimiter"/> accepts (tokenizers' char-predicate pattern).</summary>
    public static List<TextSegment> AtCharacters(string text, Func<Rune, bool> isDelimiter)
    {
        var segments = new List<TextSegment>();
        if (text.Length == 0)
        {
            segments.Add(new(0, 0, false));
            return segments;
        }
        int lastOffset = 0, index = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            int next = index + rune.Utf16SequenceLength;
            if (isDelimiter(rune))
            {
                if (lastOffset < index) segments.Add(new(lastOffset, index, false));
                segments.Add(new(index, next, true));
                lastOffset = next;
            }
            index = next;
        }
        if (index > lastOffset) segments.Add(new(lastOffset, index, false));
        return segments;
    }
}

/// <summary>What a split does with the delimiters it finds (tokenizers' <c>SplitDelimiterBehavior</c>).</summary>
internal enum SplitBehavior
{
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// <summary>Applies a <see cref="SplitBehavior"/> as <c>NormalizedString::split</c> does.</summary>
internal static class SplitBehaviors
{
    /// <summary>The (start, end) ranges of the pieces the behavior keeps; empty ones included (callers drop them).</summary>
    public static List<(int Start, int End)> Apply(List<TextSegment> segments, SplitBehavior behavior)
    {
        var pieces = new List<(int Start, int End)>(segments.Count);
        bool previousMatch = false;
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                foreach (var s in segments) pieces.Add((s.Start, s.End));
                break;
            case SplitBehavior.Removed:
                foreach (var s in segments)
                {
                    if (!s.IsMatch) pieces.Add((s.Start, s.End));
                }
                break;
            case SplitBehavior.Contiguous:
                foreach (var s in segments)
                {
                    if (s.IsMatch == previousMatch && pieces.Count > 0) pieces[^1] = (pieces[^1].Start, s.End);
                    else pieces.Add((s.Start, s.End));
                    previousMatch = s.IsMatch;
                }
                break;
            case SplitBehavior.MergedWithPrevious:
                foreach (var s in segments)
                {
                    if (s.IsMatch && !previousMatch && pieces.Count > 0) pieces[^1] = (pieces[^1].Start, s.End);
                    else pieces.Add((s.Start, s.End));
                    previousMatch = s.IsMatch;
                }
                break;
            case SplitBehavior.MergedWithNext:
                for (int i = segments.Count - 1; i >= 0; i--)
                {
                    var s = segments[i];
                    if (s.IsMatch && !previousMatch && pieces.Count > 0) pieces[^1] = (s.Start, pieces[^1].End);
                    else pieces.Add((s.Start, s.End));
                    previousMatch = s.IsMatch;
                }
                pieces.Reverse();
                break;
        }
        return pieces;
    }

    public static List<TextSegment> Invert(List<TextSegment> segments)
    {
        for (int i = 0; i < segments.Count; i++) segments[i] = segments[i] with { IsMatch = !segments[i].IsMatch };
        return segments;
    }
}
