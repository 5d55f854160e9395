using System.Runtime.CompilerServices;
using GenAI.Core.Tokenization;

namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// What constrained decoding precomputes once per tokenizer instance (and shares across requests and schemas): each
/// token's bytes, a byte trie of every token that brings text, and the tokens that are plain JSON string content (no
/// quote, backslash or control byte; whole UTF-8 characters) with a second trie of all the others. Special tokens and
/// ids without text are in neither trie: a constraint allows them only as end tokens.
/// </summary>
internal sealed class TokenVocabulary
{
    private static readonly ConditionalWeakTable<TextTokenizer, TokenVocabulary> Cache = new();

    private TokenVocabulary(TextTokenizer tokenizer)
    {
        Size = tokenizer.VocabSize;
        Bytes = new byte[]?[Size];
        PlainString = new TokenMask(Size);
        var text = new List<int>(Size);
        var nonPlain = new List<int>();
        for (int id = 0; id < Size; id++)
        {
            if (tokenizer.IsSpecialToken(id)) continue;
            var bytes = tokenizer.TokenBytes(id);
            if (bytes.IsEmpty) continue;
            Bytes[id] = bytes.ToArray();
            text.Add(id);
            if (Utf8Rules.IsPlainStringContent(bytes)) PlainString.Set(id);
            else nonPlain.Add(id);
        }
        All = TokenTrie.Build(Bytes, text);
        NonPlainString = TokenTrie.Build(Bytes, nonPlain);
    }

    /// <summary>The index of <paramref name="tokenizer"/>, built on first use (a Qwen-sized vocabulary takes a fraction of a second).</summary>
    public static TokenVocabulary For(TextTokenizer tokenizer) => Cache.GetValue(tokenizer, t => new TokenVocabulary(t));

    /// <summary>The tokenizer's <see cref="TextTokenizer.VocabSize"/>.</summary>
    public int Size { get; }

    /// <summary>Each id's bytes; null for special tokens and ids without text.</summary>
    public byte[]?[] Bytes { get; }

    /// <summary>Every token with text.</summary>
    public TokenTrie All { get; }

    /// <summary>Tokens that leave a plain string's state as it was (see <see cref="Utf8Rules.IsPlainStringContent"/>).</summary>
    public TokenMask PlainString { get; }

    /// <summary>The tokens with text that are not in <see cref="PlainString"/>.</summary>
    public TokenTrie NonPlainString { get; }

    /// <summary>Bytes of computed masks kept per tokenizer (about 1,700 masks of a 151k vocabulary).</summary>
    public const long MaskCacheBytes = 32L << 20;

    /// <summary>Masks computed for this tokenizer, by state (all grammars: a state names its grammar's nodes).</summary>
    public MaskCache Masks { get; } = new(MaskCacheBytes);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<byte, OpeningSets> _openings = new();

    /// <summary>
    /// The tokens that can stand at an answer's start when a value beginning with <paramref name="first"/> may open it:
    /// <see cref="OpeningSets.Whitespace"/> (whitespace only) and <see cref="OpeningSets.OtherText"/> (special tokens, and
    /// text whose first non-whitespace byte is another one). Built once per byte.
    /// </summary>
    public OpeningSets Opening(byte first) => _openings.GetOrAdd(first, b =>
    {
        var whitespace = new TokenMask(Size);
        var other = new TokenMask(Size);
        for (int id = 0; id < Size; id++)
        {
            if (Bytes[id] is not { } bytes)
            {
                other.Set(id);
                continue;
            }
            int i = 0;
            while (i < bytes.Length && IsWhitespace(bytes[i])) i++;
            if (i == bytes.Length) whitespace.Set(id);
            else if (bytes[i] != b) other.Set(id);
        }
        return new OpeningSets(whitespace.Freeze(), other.Freeze());
    });

    /// <summary>JSON's whitespace: space, tab, newline, carriage return.</summary>
    public static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r';

    /// <summary>True when every byte is JSON whitespace (and there is at least one).</summary>
    public static bool IsWhitespace(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            if (!IsWhitespace(b)) return false;
        }
        return !bytes.IsEmpty;
    }

    /// <summary>See <see cref="Opening"/>.</summary>
    public sealed record OpeningSets(TokenMask Whitespace, TokenMask OtherText);
}

/// <summary>
/// A byte trie of token strings, flattened into arrays: node <c>n</c>'s edges are
/// <c>EdgeBytes/EdgeTargets[EdgeStart[n] .. EdgeStart[n] + EdgeCount[n])</c>, the tokens whose bytes end at it are
/// <c>TokenIds[TokenStart[n] .. TokenStart[n] + TokenCount[n])</c>. Node 0 is the root (the empty string).
/// </summary>
internal sealed class TokenTrie
{
    public required int[] EdgeStart { get; init; }
    public required int[] EdgeCount { get; init; }
    public required byte[] EdgeBytes { get; init; }
    public required int[] EdgeTargets { get; init; }
    public required int[] TokenStart { get; init; }
    public required int[] TokenCount { get; init; }
    public required int[] TokenIds { get; init; }

    /// <summary>Length of the longest token (the trie's depth).</summary>
    public required int MaxDepth { get; init; }

    public int NodeCount => EdgeStart.Length;

    /// <summary>Builds the trie of <paramref name="ids"/>: sorted by bytes, each node's tokens and children are runs.</summary>
    public static TokenTrie Build(byte[]?[] bytes, List<int> ids)
    {
        var sorted = ids.ToArray();
        Array.Sort(sorted, (a, b) => bytes[a].AsSpan().SequenceCompareTo(bytes[b]));
        var builder = new Builder(bytes, sorted);
        builder.Node(0, sorted.Length, 0);
        return builder.ToTrie();
    }

    private sealed class Builder(byte[]?[] bytes, int[] sorted)
    {
        private readonly List<int> _edgeStart = [], _edgeCount = [], _tokenStart = [], _tokenCount = [];
        private readonly List<byte> _edgeBytes = [];
        private readonly List<int> _edgeTargets = [], _tokenIds = [];
        private int _maxDepth;

        /// <summary>Adds the node of the sorted ids [lo, hi), which share their first <paramref name="depth"/> bytes.</summary>
        public int Node(int lo, int hi, int depth)
        {
            int node = _edgeStart.Count;
            _edgeStart.Add(0);
            _edgeCount.Add(0);
            _tokenStart.Add(_tokenIds.Count);
            int i = lo;
            while (i < hi && bytes[sorted[i]]!.Length == depth) _tokenIds.Add(sorted[i++]);
            _tokenCount.Add(_tokenIds.Count - _tokenStart[node]);
            _maxDepth = Math.Max(_maxDepth, depth);
            var children = new List<(byte, int)>();
            while (i < hi)
            {
                byte b = bytes[sorted[i]]![depth];
                int j = i + 1;
                while (j < hi && bytes[sorted[j]]![depth] == b) j++;
                children.Add((b, Node(i, j, depth + 1)));
                i = j;
            }
            _edgeStart[node] = _edgeBytes.Count;
            _edgeCount[node] = children.Count;
            foreach (var (b, child) in children)
            {
                _edgeBytes.Add(b);
                _edgeTargets.Add(child);
            }
            return node;
        }

        public TokenTrie ToTrie() => new()
        {
            EdgeStart = [.. _edgeStart],
            EdgeCount = [.. _edgeCount],
            EdgeBytes = [.. _edgeBytes],
            EdgeTargets = [.. _edgeTargets],
            TokenStart = [.. _tokenStart],
            TokenCount = [.. _tokenCount],
            TokenIds = [.. _tokenIds],
            MaxDepth = _maxDepth,
        };
    }
}

/// <summary>UTF-8 as JSON strings may carry it (RFC 8259 over RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).</summary>
internal static class Utf8Rules
{
    /// <summary>
    /// For a lead byte: how many continuation bytes follow and the range the first of them must be in; false for
    /// bytes that cannot start a character (ASCII is handled by the caller).
    /// </summary>
    public static bool Lead(byte b, out int continuations, out byte firstLow, out byte firstHigh, out int bits)
    {
        (continuations, firstLow, firstHigh, bits) = b switch
        {
            >= 0xC2 and <= 0xDF => (1, (byte)0x80, (byte)0xBF, b & 0x1F),
            0xE0 => (2, (byte)0xA0, (byte)0xBF, b & 0x0F),
            0xED => (2, (byte)0x80, (byte)0x9F, b & 0x0F), // no UTF-16 surrogates
            >= 0xE1 and <= 0xEF => (2, (byte)0x80, (byte)0xBF, b & 0x0F),
            0xF0 => (3, (byte)0x90, (byte)0xBF, b & 0x07),
            >= 0xF1 and <= 0xF3 => (3, (byte)0x80, (byte)0xBF, b & 0x07),
            0xF4 => (3, (byte)0x80, (byte)0x8F, b & 0x07),
            _ => (0, (byte)0, (byte)0, 0),
        };
        return continuations > 0;
    }

    /// <summary>
    /// True when the bytes can stand anywhere inside a JSON string's content and leave its lexer where it was: no
    /// quote, backslash or control byte, and only whole UTF-8 characters.
    /// </summary>
    public static bool IsPlainStringContent(ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length;)
        {
            byte b = bytes[i];
            if (b < 0x20 || b == (byte)'"' || b == (byte)'\\') return false;
            if (b < 0x80)
            {
                i++;
                continue;
            }
            if (!Lead(b, out int continuations, out byte low, out byte high, out _) || i + continuations >= bytes.Length) return false;
            if (bytes[i + 1] < low || bytes[i + 1] > high) return false;
            for (int k = 2; k <= continuations; k++)
            {
                if (bytes[i + k] < 0x80 || bytes[i + k] > 0xBF) return false;
            }
            i += continuations + 1;
        }
        return true;
    }
}
