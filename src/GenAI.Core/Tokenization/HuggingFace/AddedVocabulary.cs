using System.Buffers;
using System.Text;

namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>A token of tokenizer.json's <c>added_tokens</c> (or one transformers adds from tokenizer_config.json).</summary>
internal sealed record AddedToken(string Content, bool Special, bool SingleWord = false, bool LeftStrip = false, bool RightStrip = false, bool Normalized = false);

/// <summary>
/// tokenizers' <c>AddedVocabulary</c>: the added tokens, their ids, and how they are cut out of a text before the
/// rest is pre-tokenized — tokens with <c>normalized: false</c> in the original text, the others (as the normalizer
/// writes them) in the normalized pieces; leftmost-longest matches; <c>single_word</c>, <c>lstrip</c> and
/// <c>rstrip</c> as tokenizers applies them.
/// </summary>
internal sealed class AddedVocabulary
{
    private readonly Dictionary<string, int> _idsByContent = new(StringComparer.Ordinal);
    private readonly Dictionary<int, AddedToken> _tokensById = [];
    private readonly Dictionary<int, string> _normalizedContent = [];
    private readonly HashSet<string> _specialContents = new(StringComparer.Ordinal);
    // tokenizers' special_tokens and added_tokens lists, in the order tokens came: the matchers are built from
    // them (each entry's own normalized flag), while a match takes the properties of the token its id has now.
    private readonly List<AddedToken> _specialTokens = [];
    private readonly List<AddedToken> _classicTokens = [];
    private TokenMatcher _originalMatcher = TokenMatcher.Empty;
    private TokenMatcher _normalizedMatcher = TokenMatcher.Empty;

    public IReadOnlyDictionary<int, AddedToken> TokensById => _tokensById;

    public int? IdOf(string content) => _idsByContent.TryGetValue(content, out int id) ? id : null;

    /// <summary>The text the token decodes from: its content, or, for a normalized token, the content as normalized.</summary>
    public string? TokenText(int id) =>
        _normalizedContent.TryGetValue(id, out string? normalized) ? normalized : _tokensById.TryGetValue(id, out var token) ? token.Content : null;

    /// <summary>True when <paramref name="content"/> is the content of a special added token.</summary>
    public bool IsSpecial(string content) => _specialContents.Contains(content);

    /// <summary>
    /// Adds tokens as tokenizers' <c>add_tokens</c> does: a content already known (added or in the model's vocabulary)
    /// keeps its id, the others take ids after the vocabulary; a token added again with other properties takes
    /// them (its id keeps them for matching), but a token once special stays special and keeps the list entry it
    /// had, as tokenizers keeps it.
    /// </summary>
    public void Add(IEnumerable<AddedToken> tokens, BpeModel model, TextNormalizer? normalizer)
    {
        var list = tokens.ToList();
        foreach (var token in list)
        {
            if (token.Special && token.Content.Length > 0 && _specialContents.Add(token.Content)) _specialTokens.Add(token);
        }
        int nextId = _tokensById.Count == 0
            ? model.Vocabulary.Count
            : Math.Max(_tokensById.Keys.Max() + 1, model.Vocabulary.Count);
        foreach (var token in list)
        {
            if (token.Content.Length == 0) continue;
            if (_idsByContent.TryGetValue(token.Content, out int existing) && _tokensById[existing] == token) continue;
            int id = _idsByContent.TryGetValue(token.Content, out existing) ? existing
                : model.Vocabulary.TryGetValue(token.Content, out int modelId) ? modelId
                : nextId++;
            _normalizedContent.Remove(id);
            if (token.Normalized && normalizer is not null)
            {
                bool ignored = true;
                string normalized = normalizer.Normalize(token.Content, ref ignored);
                if (normalized != token.Content) _normalizedContent[id] = normalized;
            }
            _idsByContent[token.Content] = id;
            _tokensById[id] = token;
            if (!_specialContents.Contains(token.Content)) _classicTokens.Add(token);
        }
        var original = new List<(string, int)>();
        var normalizedPatterns = new List<(string, int)>();
        foreach (var token in _specialTokens.Concat(_classicTokens))
        {
            int id = _idsByContent[token.Content];
            if (!token.Normalized)
            {
                original.Add((token.Content, id));
                continue;
            }
            string pattern = token.Content;
            if (normalizer is not null)
            {
                bool ignored = true;
                pattern = normalizer.Normalize(token.Content, ref ignored);
            }
            normalizedPatterns.Add((pattern, id));
        }
        _originalMatcher = new TokenMatcher(original);
        _normalizedMatcher = new TokenMatcher(normalizedPatterns);
    }

    /// <summary>Cuts the added tokens with <c>normalized: false</c> out of the original text.</summary>
    public void SplitOriginal(string text, bool matchSpecialTokens, List<AddedTokenSplit> output) =>
        Split(text, _originalMatcher, matchSpecialTokens, output);

    /// <summary>Cuts the added tokens with <c>normalized: true</c> out of a normalized piece.</summary>
    public void SplitNormalized(string text, bool matchSpecialTokens, List<AddedTokenSplit> output) =>
        Split(text, _normalizedMatcher, matchSpecialTokens, output);

    /// <summary>tokenizers' <c>find_matches</c>; pieces may be empty (callers drop them).</summary>
    private void Split(string text, TokenMatcher matcher, bool matchSpecialTokens, List<AddedTokenSplit> output)
    {
        int startOffset = 0;
        if (text.Length > 0 && !matcher.IsEmpty)
        {
            int from = 0;
            while (matcher.FindLeftmostLongest(text, from) is (int matchStart, int matchEnd, int id))
            {
                from = matchEnd;
                var token = _tokensById[id];
                int start = matchStart, stop = matchEnd;
                // A special token in ordinary text is text (transformers' split_special_tokens): skipped, its span consumed.
                if (!matchSpecialTokens && _specialContents.Contains(token.Content)) continue;
                if (token.SingleWord)
                {
                    bool spaceBefore = start == 0 || !EndsWithWordCharacter(text.AsSpan(0, start));
                    bool spaceAfter = stop == text.Length || !StartsWithWordCharacter(text.AsSpan(stop));
                    if (!spaceBefore || !spaceAfter) continue;
                }
                if (token.LeftStrip)
                {
                    int newStart = start;
                    while (newStart > 0 && char.IsWhiteSpace(text[newStart - 1])) newStart--;
                    start = Math.Max(newStart, startOffset);
                }
                if (token.RightStrip)
                {
                    while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
                }
                if (startOffset < start) output.Add(new AddedTokenSplit(startOffset, start, null));
                output.Add(new AddedTokenSplit(start, stop, id));
                startOffset = stop;
            }
        }
        if (startOffset != text.Length || text.Length == 0) output.Add(new AddedTokenSplit(startOffset, text.Length, null));
    }

    private static bool EndsWithWordCharacter(ReadOnlySpan<char> text) =>
        Rune.DecodeLastFromUtf16(text, out var rune, out _) == OperationStatus.Done && UnicodeClasses.IsWordCharacter(rune);

    private static bool StartsWithWordCharacter(ReadOnlySpan<char> text) =>
        Rune.DecodeFromUtf16(text, out var rune, out _) == OperationStatus.Done && UnicodeClasses.IsWordCharacter(rune);
}

/// <summary>A piece of text between added tokens (<paramref name="TokenId"/> null) or an added token's span.</summary>
internal readonly record struct AddedTokenSplit(int Start, int End, int? TokenId);

/// <summary>Finds the leftmost-longest occurrence of any of a set of strings (aho-corasick's LeftmostLongest).</summary>
internal sealed class TokenMatcher
{
    public static readonly TokenMatcher Empty = new([]);

    private readonly Dictionary<char, (string Pattern, int Id)[]> _byFirstChar;
    private readonly SearchValues<char> _firstChars;

    public TokenMatcher(IEnumerable<(string Pattern, int Id)> patterns)
    {
        _byFirstChar = patterns.Where(p => p.Pattern.Length > 0)
            .GroupBy(p => p.Pattern[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Pattern.Length).ToArray());
        _firstChars = SearchValues.Create(_byFirstChar.Keys.ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    public (int Start, int End, int Id)? FindLeftmostLongest(string text, int from)
    {
        while (from < text.Length)
        {
            int at = text.AsSpan(from).IndexOfAny(_firstChars);
            if (at < 0) return null;
            at += from;
            foreach (var (pattern, id) in _byFirstChar[text[at]])
            {
                if (text.AsSpan(at).StartsWith(pattern, StringComparison.Ordinal)) return (at, at + pattern.Length, id);
            }
            from = at + 1;
        }
        return null;
    }
}
