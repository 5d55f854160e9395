namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// Masks already computed for a tokenizer, by automaton state: the same state (the same grammar at the same place —
/// inside a string, between an object's keys) recurs token after token and request after request, and its mask is
/// then a lookup. Least recently used entries leave first once the cache holds <see cref="CapacityBytes"/>. Thread-safe.
/// </summary>
internal sealed class MaskCache(long capacityBytes)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<StateSet, LinkedListNode<(StateSet Key, TokenMask Mask)>> _entries = [];
    private readonly LinkedList<(StateSet Key, TokenMask Mask)> _recency = []; // most recent first
    private long _bytes;

    public long CapacityBytes { get; } = capacityBytes;

    public int Count
    {
        get
        {
            lock (_gate) return _entries.Count;
        }
    }

    public bool TryGet(StateSet key, out TokenMask mask)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                mask = node.Value.Mask;
                return true;
            }
        }
        mask = null!;
        return false;
    }

    public void Add(StateSet key, TokenMask mask)
    {
        lock (_gate)
        {
            if (_entries.ContainsKey(key) || mask.ByteCount > CapacityBytes) return;
            _entries[key] = _recency.AddFirst((key, mask));
            _bytes += mask.ByteCount;
            while (_bytes > CapacityBytes && _recency.Last is { } last)
            {
                _recency.RemoveLast();
                _entries.Remove(last.Value.Key);
                _bytes -= last.Value.Mask.ByteCount;
            }
        }
    }
}
