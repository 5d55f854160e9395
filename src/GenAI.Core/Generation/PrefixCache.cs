using GenAI.Core.Models;
using static TorchSharp.torch;

namespace GenAI.Core.Generation;

/// <summary>
/// Automatic prefix caching: the keys and values of recent sequences (prompts when their prefill ends, prompt +
/// output when a request ends), kept by their tokens, so a request that starts with the same tokens — a shared
/// system prompt, the earlier turns of a chat — copies them into its row and prefills only the rest. Lookups walk a
/// chain of hashes of 16-token blocks (as vLLM keys its blocks), then compare tokens, so a hash collision can only
/// cost a hit, never a wrong one. Memory stays within a byte budget: the least recently used sequences go first.
/// Used on the engine thread only; the counters may be read from any thread.
/// </summary>
internal sealed class PrefixCache : IDisposable
{
    /// <summary>Tokens per hashed block; shorter matches are not worth a copy.</summary>
    public const int BlockSize = 16;

    private readonly long _budget;
    private readonly long _bytesPerPosition;
    private readonly LinkedList<Entry> _recent = new(); // most recently used first
    private readonly Dictionary<ulong, Entry> _byPrefix = [];
    private long _bytes, _hitTokens, _queriedTokens;

    private sealed class Entry(int[] tokens, Tensor[] keys, Tensor[] values, ulong[] prefixHashes, long bytes)
    {
        public int[] Tokens { get; } = tokens;
        public Tensor[] Keys { get; } = keys;
        public Tensor[] Values { get; } = values;
        public ulong[] PrefixHashes { get; } = prefixHashes;
        public long Bytes { get; } = bytes;
        public LinkedListNode<Entry>? Node { get; set; }
    }

    public PrefixCache(long budgetBytes, long bytesPerPosition)
    {
        _budget = budgetBytes;
        _bytesPerPosition = bytesPerPosition;
    }

    /// <summary>Prompt tokens found in the cache so far.</summary>
    public long HitTokens => Interlocked.Read(ref _hitTokens);

    /// <summary>Prompt tokens looked up so far.</summary>
    public long QueriedTokens => Interlocked.Read(ref _queriedTokens);

    /// <summary>Bytes of keys and values held.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>
    /// Copies the longest cached prefix of <paramref name="prompt"/> (leaving at least its last token to compute) into
    /// cache row <paramref name="row"/>; returns how many tokens it holds now (0: none).
    /// </summary>
    public int Restore(IReadOnlyList<int> prompt, KvCache cache, int row)
    {
        Interlocked.Add(ref _queriedTokens, prompt.Count);
        int limit = Math.Min(prompt.Count - 1, cache.MaxSequenceLength);
        Entry? best = null;
        ulong hash = Seed;
        for (int block = 0; (block + 1) * BlockSize <= limit; block++)
        {
            hash = Hash(hash, prompt, block);
            if (!_byPrefix.TryGetValue(hash, out var entry)) break;
            best = entry;
        }
        if (best is null) return 0;
        int matched = 0, end = Math.Min(limit, best.Tokens.Length);
        while (matched < end && best.Tokens[matched] == prompt[matched]) matched++;
        if (matched < BlockSize) return 0;
        cache.ImportRow(row, best.Keys, best.Values, matched);
        Touch(best);
        Interlocked.Add(ref _hitTokens, matched);
        return matched;
    }

    /// <summary>
    /// Keeps the first <paramref name="length"/> positions of cache row <paramref name="row"/>, which hold
    /// <paramref name="tokens"/>[..length], unless a kept sequence already starts with them; kept sequences that are a
    /// prefix of these are dropped for it.
    /// </summary>
    public void Store(IReadOnlyList<int> tokens, int length, KvCache cache, int row)
    {
        long bytes = length * _bytesPerPosition;
        if (length < BlockSize || bytes > _budget) return;
        foreach (var entry in _recent)
        {
            if (entry.Tokens.Length >= length && StartsWith(entry.Tokens, tokens, length))
            {
                Touch(entry);
                return;
            }
        }
        foreach (var entry in _recent.Where(e => e.Tokens.Length < length && StartsWith(tokens, e.Tokens, e.Tokens.Length)).ToList()) Remove(entry);
        while (_bytes + bytes > _budget && _recent.Last is { } oldest) Remove(oldest.Value);

        var prefix = tokens.Take(length).ToArray();
        var hashes = new ulong[length / BlockSize];
        ulong hash = Seed;
        for (int block = 0; block < hashes.Length; block++) hashes[block] = hash = Hash(hash, prefix, block);
        var (keys, values) = cache.ExportRow(row, length);
        var added = new Entry(prefix, keys, values, hashes, bytes);
        added.Node = _recent.AddFirst(added);
        foreach (ulong h in hashes) _byPrefix[h] = added;
        Interlocked.Add(ref _bytes, bytes);
    }

    private void Touch(Entry entry)
    {
        _recent.Remove(entry.Node!);
        _recent.AddFirst(entry.Node!);
    }

    private void Remove(Entry entry)
    {
        _recent.Remove(entry.Node!);
        foreach (ulong h in entry.PrefixHashes)
        {
            if (!_byPrefix.TryGetValue(h, out var holder) || holder != entry) continue;
            // Another kept sequence may share this prefix: it answers for it now.
            var other = _recent.FirstOrDefault(e => Array.IndexOf(e.PrefixHashes, h) >= 0);
            if (other is null) _byPrefix.Remove(h);
            else _byPrefix[h] = other;
        }
        foreach (var t in entry.Keys) t.Dispose();
        foreach (var t in entry.Values) t.Dispose();
        Interlocked.Add(ref _bytes, -entry.Bytes);
    }

    private static bool StartsWith(IReadOnlyList<int> sequence, IReadOnlyList<int> prefix, int length)
    {
        for (int i = 0; i < length; i++)
        {
            if (sequence[i] != prefix[i]) return false;
        }
        return true;
    }

    private const ulong Seed = 14695981039346656037UL;

    // FNV-1a over the block's tokens, chained from the hash of everything before it.
    private static ulong Hash(ulong previous, IReadOnlyList<int> tokens, int block)
    {
        ulong hash = previous;
        for (int i = block * BlockSize; i < (block + 1) * BlockSize; i++)
        {
            uint token = (uint)tokens[i];
            for (int b = 0; b < 4; b++)
            {
                hash ^= (token >> (8 * b)) & 0xFF;
                hash *= 1099511628211UL;
            }
        }
        return hash;
    }

    public void Dispose()
    {
        foreach (var entry in _recent.ToList()) Remove(entry);
    }
}
