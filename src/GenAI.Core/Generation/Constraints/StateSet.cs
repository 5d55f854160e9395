namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// Where the automaton may be after the bytes so far: usually one stack of frames, several while anyOf alternatives
/// agree on a prefix. Duplicates are removed; equality ignores order, so the same situation reached twice is the same
/// key for the mask cache.
/// </summary>
internal sealed class StateSet : IEquatable<StateSet>
{
    private readonly int _hash;

    public StateSet(Frame[] frames)
    {
        Frames = frames;
        int hash = frames.Length;
        foreach (var frame in frames) hash += frame.GetHashCode() * 31; // order-independent
        _hash = hash;
    }

    public Frame[] Frames { get; }

    public bool IsEmpty => Frames.Length == 0;

    /// <summary>True when every frame is the root after its value: only the end may follow.</summary>
    public bool IsFinished => Frames.Length > 0 && Array.TrueForAll(Frames, f => f.IsFinished);

    /// <summary>True when every frame is a plain string between characters.</summary>
    public bool IsPlainStringContent => Frames.Length > 0 && Array.TrueForAll(Frames, f => f.IsPlainStringContent);

    /// <summary>True when the output may end here.</summary>
    public bool CanEnd
    {
        get
        {
            var output = new List<Frame>();
            foreach (var frame in Frames)
            {
                frame.Step(Frame.End, output);
                if (output.Count > 0) return true;
            }
            return false;
        }
    }

    /// <summary>The set after <paramref name="bytes"/>, or null when some byte is not allowed.</summary>
    public StateSet? Advance(ReadOnlySpan<byte> bytes)
    {
        var current = new List<Frame>(Frames);
        var next = new List<Frame>();
        foreach (byte b in bytes)
        {
            next.Clear();
            foreach (var frame in current) frame.Step(b, next);
            if (next.Count == 0) return null;
            Deduplicate(next);
            (current, next) = (next, current);
        }
        return new StateSet([.. current]);
    }

    /// <summary>True when <paramref name="bytes"/> are a whole value of <paramref name="grammar"/>.</summary>
    public static bool Matches(Grammar grammar, ReadOnlySpan<byte> bytes) =>
        new StateSet([new RootFrame(grammar, 0)]).Advance(bytes) is { CanEnd: true };

    /// <summary>Removes frames equal to an earlier one.</summary>
    public static void Deduplicate(List<Frame> frames)
    {
        for (int i = frames.Count - 1; i > 0; i--)
        {
            for (int j = 0; j < i; j++)
            {
                if (frames[j].Equals(frames[i]))
                {
                    frames.RemoveAt(i);
                    break;
                }
            }
        }
    }

    public bool Equals(StateSet? other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (other is null || other._hash != _hash || other.Frames.Length != Frames.Length) return false;
        foreach (var frame in Frames)
        {
            if (Array.IndexOf(other.Frames, frame) < 0 && !other.Frames.Any(f => f.Equals(frame))) return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => obj is StateSet other && Equals(other);

    public override int GetHashCode() => _hash;
}
