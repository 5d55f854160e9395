using System.Numerics;

namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// A set of token ids as a bitset: the tokens a constraint allows next. Plain .NET (no tensors), so building one
/// costs bit operations, and applying it to a row of logits is one pass over the row.
/// </summary>
public sealed class TokenMask
{
    private readonly ulong[] _words;

    /// <summary>An empty mask for ids 0..<paramref name="size"/>-1.</summary>
    public TokenMask(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        Size = size;
        _words = new ulong[(size + 63) / 64];
    }

    private TokenMask(int size, ulong[] words)
    {
        Size = size;
        _words = words;
    }

    /// <summary>Ids the mask covers (0..Size-1); ids beyond it are never allowed.</summary>
    public int Size { get; }

    /// <summary>True when <paramref name="id"/> is in the set (false for ids outside 0..Size-1).</summary>
    public bool this[int id] => (uint)id < (uint)Size && (_words[id >> 6] & (1UL << id)) != 0;

    /// <summary>True for a mask shared by a cache: it cannot be changed (<see cref="Clone"/> gives a changeable copy).</summary>
    public bool IsReadOnly { get; private set; }

    /// <summary>Adds <paramref name="id"/> (ignored outside 0..Size-1).</summary>
    public void Set(int id)
    {
        if (IsReadOnly) throw new InvalidOperationException("this mask is shared and read-only; change a Clone()");
        if ((uint)id < (uint)Size) _words[id >> 6] |= 1UL << id;
    }

    /// <summary>Adds every id of <paramref name="other"/> (which must have the same size).</summary>
    public void UnionWith(TokenMask other)
    {
        if (IsReadOnly) throw new InvalidOperationException("this mask is shared and read-only; change a Clone()");
        if (other.Size != Size) throw new ArgumentException("masks of different sizes", nameof(other));
        for (int i = 0; i < _words.Length; i++) _words[i] |= other._words[i];
    }

    /// <summary>Number of ids in the set.</summary>
    public int Count
    {
        get
        {
            int count = 0;
            foreach (ulong word in _words) count += BitOperations.PopCount(word);
            return count;
        }
    }

    /// <summary>True when no id is in the set.</summary>
    public bool IsEmpty => Array.TrueForAll(_words, w => w == 0);

    /// <summary>The ids in the set, ascending.</summary>
    public IEnumerable<int> Ids()
    {
        for (int w = 0; w < _words.Length; w++)
        {
            for (ulong word = _words[w]; word != 0; word &= word - 1) yield return w * 64 + BitOperations.TrailingZeroCount(word);
        }
    }

    /// <summary>A copy that can be changed without changing this one.</summary>
    public TokenMask Clone() => new(Size, (ulong[])_words.Clone());

    /// <summary>
    /// Sets every logit whose id is not in the set to -infinity (ids at or beyond <see cref="Size"/> included): a row of
    /// any length, such as a model that scores more ids than its tokenizer has. Returns the allowed id with the highest
    /// finite logit (the first of equals, as argmax picks it), or -1 when every allowed logit is -infinity.
    /// </summary>
    public int ApplyTo(Span<float> logits)
    {
        int covered = Math.Min(logits.Length, Size);
        int best = -1;
        float bestValue = float.NegativeInfinity;
        int w = 0;
        for (int start = 0; start < covered; start += 64, w++)
        {
            ulong word = _words[w];
            int end = Math.Min(start + 64, covered);
            if (word == 0)
            {
                logits[start..end].Fill(float.NegativeInfinity);
                continue;
            }
            for (int id = start; id < end; id++)
            {
                if ((word & (1UL << (id - start))) == 0) logits[id] = float.NegativeInfinity;
                else if (logits[id] > bestValue)
                {
                    bestValue = logits[id];
                    best = id;
                }
            }
        }
        if (logits.Length > covered) logits[covered..].Fill(float.NegativeInfinity);
        return best;
    }

    internal TokenMask Freeze()
    {
        IsReadOnly = true;
        return this;
    }

    internal int ByteCount => _words.Length * sizeof(ulong);
}
