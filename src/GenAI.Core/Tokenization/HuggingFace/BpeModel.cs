using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>
/// tokenizers' BPE model: a word's characters become vocabulary ids (unknown ones through byte fallback or the unk
/// token), then the pair with the lowest merge rank is merged, leftmost first, until no pair has a merge. Encoded
/// words are cached (up to <see cref="CacheCapacity"/> words shorter than 256 characters), as tokenizers does.
/// </summary>
internal sealed class BpeModel
{
    public const int CacheCapacity = 10_000;
    private const int CacheableLength = 256;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabBySpan;
    private readonly Dictionary<long, Merge> _merges;
    private readonly int?[] _byteFallbackIds;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private int _cacheCount;

    /// <param name="vocab">token → id.</param>
    /// <param name="merges">the merges in rank order.</param>
    /// <param name="options">the model's options.</param>
    public BpeModel(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, BpeOptions options)
    {
        _vocab = vocab;
        _vocabBySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        Options = options;
        int prefixLength = options.ContinuingSubwordPrefix?.Length ?? 0;
        _merges = new Dictionary<long, Merge>(merges.Count, PairComparer.Instance);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocab.TryGetValue(left, out int leftId)) throw new InvalidDataException($"merge {rank + 1} ('{left} {right}'): '{left}' is not in the vocabulary");
            if (!vocab.TryGetValue(right, out int rightId)) throw new InvalidDataException($"merge {rank + 1} ('{left} {right}'): '{right}' is not in the vocabulary");
            // The merged token drops the right side's continuing-subword prefix, as tokenizers builds it.
            string merged = right.Length >= prefixLength ? string.Concat(left, right.AsSpan(prefixLength)) : left + right;
            if (!vocab.TryGetValue(merged, out int mergedId)) throw new InvalidDataException($"merge {rank + 1} ('{left} {right}'): '{merged}' is not in the vocabulary");
            _merges[Key(leftId, rightId)] = new Merge(rank, mergedId); // a repeated pair keeps its last rank, as tokenizers' map does
        }
        _byteFallbackIds = new int?[256];
        if (options.ByteFallback)
        {
            for (int b = 0; b < 256; b++)
            {
                if (vocab.TryGetValue(ByteFallbackToken((byte)b), out int id)) _byteFallbackIds[b] = id;
            }
        }
        if (options.UnknownToken is string unk && vocab.TryGetValue(unk, out int unkId)) UnknownTokenId = unkId;
        _splitsBeforeMetaspace = !options.IgnoreMerges && string.IsNullOrEmpty(options.ContinuingSubwordPrefix)
            && string.IsNullOrEmpty(options.EndOfWordSuffix) && vocab.ContainsKey(Metaspace.ToString())
            && !vocab.Keys.Any(HasMetaspaceInside);
    }

    /// <summary>SentencePiece's word boundary, the character its normalizers write for a space.</summary>
    private const char Metaspace = '\u2581';

    /// <summary>
    /// True when no merge can join a character to a following ▁ (no token has ▁ after another character): then a
    /// long SentencePiece text (one "word" when there is no pre-tokenizer) can be merged word by word, each cached,
    /// with exactly the result of merging it whole.
    /// </summary>
    private readonly bool _splitsBeforeMetaspace;

    private static bool HasMetaspaceInside(string token)
    {
        for (int i = token.IndexOf(Metaspace, 1 < token.Length ? 1 : token.Length); i > 0; i = i + 1 < token.Length ? token.IndexOf(Metaspace, i + 1) : -1)
        {
            if (token[i - 1] != Metaspace) return true;
        }
        return false;
    }

    public BpeOptions Options { get; }

    public IReadOnlyDictionary<string, int> Vocabulary => _vocab;

    /// <summary>The id of the unknown token, when the model names one that is in its vocabulary.</summary>
    public int? UnknownTokenId { get; }

    /// <summary>The byte-fallback token of a byte: <c>&lt;0x0A&gt;</c>.</summary>
    public static string ByteFallbackToken(byte b) => "<0x" + b.ToString("X2", CultureInfo.InvariantCulture) + ">";

    /// <summary>
    /// Appends the ids of one pre-tokenized word; <paramref name="cancellationToken"/> is checked every
    /// <see cref="CancellationInterval"/> merges of a long word.
    /// </summary>
    public void Tokenize(string word, List<int> ids, CancellationToken cancellationToken = default)
    {
        if (_splitsBeforeMetaspace && word.Length > CacheableLength / 4)
        {
            int start = 0;
            for (int i = 1; i < word.Length; i++)
            {
                if (word[i] != Metaspace || word[i - 1] == Metaspace) continue;
                cancellationToken.ThrowIfCancellationRequested();
                TokenizeWord(word[start..i], ids, cancellationToken);
                start = i;
            }
            TokenizeWord(start == 0 ? word : word[start..], ids, cancellationToken);
            return;
        }
        TokenizeWord(word, ids, cancellationToken);
    }

    /// <summary>How many merges of one word run between checks of the cancellation token (a power of two).</summary>
    private const int CancellationInterval = 4096;

    private void TokenizeWord(string word, List<int> ids, CancellationToken cancellationToken)
    {
        if (word.Length == 0) return;
        if (Options.IgnoreMerges && _vocab.TryGetValue(word, out int whole))
        {
            ids.Add(whole);
            return;
        }
        if (_cache.TryGetValue(word, out var cached))
        {
            ids.AddRange(cached);
            return;
        }
        var result = MergeWord(word, cancellationToken);
        if (word.Length < CacheableLength && Volatile.Read(ref _cacheCount) < CacheCapacity && _cache.TryAdd(word, result))
        {
            Interlocked.Increment(ref _cacheCount);
        }
        ids.AddRange(result);
    }

    private int[] MergeWord(string word, CancellationToken cancellationToken)
    {
        var symbols = new List<Symbol>(word.Length);
        string prefix = Options.ContinuingSubwordPrefix ?? "";
        string suffix = Options.EndOfWordSuffix ?? "";
        int? unkId = null;
        int unkLength = 0;
        for (int i = 0; i < word.Length;)
        {
            int length = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            bool first = i == 0, last = i + length == word.Length;
            // The character as the vocabulary spells it: with the continuing-subword prefix unless it starts the
            // word, with the end-of-word suffix if it ends it.
            var character = word.AsSpan(i, length);
            string? decorated = (!first && prefix.Length > 0) || (last && suffix.Length > 0)
                ? string.Concat(first ? "" : prefix, character, last ? suffix : "")
                : null;
            bool known = decorated is null ? _vocabBySpan.TryGetValue(character, out int id) : _vocab.TryGetValue(decorated, out id);
            i += length;
            if (known)
            {
                if (unkId is int pending) { Add(symbols, pending, unkLength); unkId = null; }
                Add(symbols, id, length);
                continue;
            }
            if (Options.ByteFallback && TryByteFallback(decorated ?? character, symbols)) continue;
            if (Options.UnknownToken is string unk)
            {
                int unknown = UnknownTokenId ?? throw new InvalidOperationException($"tokenizer.json: unk_token '{unk}' is not in the vocabulary");
                if (unkId is not null && Options.FuseUnknown)
                {
                    unkLength += length;
                }
                else
                {
                    if (unkId is int previous) Add(symbols, previous, unkLength);
                    unkId = unknown;
                    unkLength = length;
                }
            }
            // No unk token: the character is dropped, as tokenizers does.
        }
        if (unkId is int trailing) Add(symbols, trailing, unkLength);
        return MergeAll(CollectionsMarshal.AsSpan(symbols), cancellationToken);
    }

    private bool TryByteFallback(ReadOnlySpan<char> character, List<Symbol> symbols)
    {
        int count = Encoding.UTF8.GetByteCount(character);
        Span<byte> utf8 = count <= 64 ? stackalloc byte[count] : new byte[count];
        Encoding.UTF8.GetBytes(character, utf8);
        foreach (byte b in utf8)
        {
            if (_byteFallbackIds[b] is null) return false;
        }
        foreach (byte b in utf8) Add(symbols, _byteFallbackIds[b]!.Value, 1);
        return true;
    }

    private static void Add(List<Symbol> symbols, int id, int length)
    {
        int index = symbols.Count;
        if (index > 0)
        {
            var previous = symbols[index - 1];
            symbols[index - 1] = previous with { Next = index };
        }
        symbols.Add(new Symbol(id, index - 1, -1, length));
    }

    /// <summary>
    /// tokenizers' <c>Word::merge_all</c>: a queue of candidate merges by (rank, position); stale ones skipped. Each
    /// merge enqueues at most two candidates, so a word of n symbols takes O(n log n).
    /// </summary>
    private int[] MergeAll(Span<Symbol> symbols, CancellationToken cancellationToken)
    {
        if (symbols.Length > 1)
        {
            var queue = new PriorityQueue<Candidate, long>(symbols.Length);
            for (int i = 0; i + 1 < symbols.Length; i++)
            {
                if (_merges.TryGetValue(Key(symbols[i].Id, symbols[i + 1].Id), out var merge))
                {
                    queue.Enqueue(new Candidate(i, merge.NewId), Priority(merge.Rank, i));
                }
            }
            int steps = 0;
            while (queue.TryDequeue(out var top, out _))
            {
                if ((++steps & (CancellationInterval - 1)) == 0) cancellationToken.ThrowIfCancellationRequested();
                var current = symbols[top.Position];
                if (current.Length == 0 || current.Next == -1) continue;
                int rightPosition = current.Next;
                var right = symbols[rightPosition];
                if (!_merges.TryGetValue(Key(current.Id, right.Id), out var target) || target.NewId != top.NewId) continue;

                current = new Symbol(top.NewId, current.Prev, right.Next, current.Length + right.Length);
                symbols[top.Position] = current;
                symbols[rightPosition] = right with { Length = 0 };
                if (right.Next > -1 && right.Next < symbols.Length) symbols[right.Next] = symbols[right.Next] with { Prev = top.Position };

                if (current.Prev >= 0 && _merges.TryGetValue(Key(symbols[current.Prev].Id, current.Id), out var before))
                {
                    queue.Enqueue(new Candidate(current.Prev, before.NewId), Priority(before.Rank, current.Prev));
                }
                if (current.Next > -1 && current.Next < symbols.Length && _merges.TryGetValue(Key(current.Id, symbols[current.Next].Id), out var after))
                {
                    queue.Enqueue(new Candidate(top.Position, after.NewId), Priority(after.Rank, top.Position));
                }
            }
        }
        int kept = 0;
        foreach (var s in symbols) if (s.Length != 0) kept++;
        var ids = new int[kept];
        int k = 0;
        foreach (var s in symbols) if (s.Length != 0) ids[k++] = s.Id;
        return ids;
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>
    /// Hashes a pair key by all its bits: long's own hash (left ^ right) sends every pair of equal ids, of which
    /// vocabularies merge thousands (<c>a a</c>, <c>ĠĠ ĠĠ</c>, <c>== ==</c>), to one bucket, and a long word of one
    /// repeated character then walked that chain at each of its merges.
    /// </summary>
    private sealed class PairComparer : IEqualityComparer<long>
    {
        public static readonly PairComparer Instance = new();

        public bool Equals(long x, long y) => x == y;

        public int GetHashCode(long key) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> 32);
    }

    /// <summary>Lowest rank first, then leftmost: the order of tokenizers' merge queue.</summary>
    private static long Priority(int rank, int position) => ((long)rank << 32) | (uint)position;

    private readonly record struct Merge(int Rank, int NewId);

    private readonly record struct Candidate(int Position, int NewId);

    private readonly record struct Symbol(int Id, int Prev, int Next, int Length);
}

/// <summary>The options of a tokenizer.json BPE model this implementation follows.</summary>
internal sealed record BpeOptions
{
    public string? UnknownToken { get; init; }

    public bool FuseUnknown { get; init; }

    public bool ByteFallback { get; init; }

    public bool IgnoreMerges { get; init; }

    public string? ContinuingSubwordPrefix { get; init; }

    public string? EndOfWordSuffix { get; init; }
}
