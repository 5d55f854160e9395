namespace GenAI.Core.Generation;

/// <summary>
/// Finds stop strings in streamed text. Text that could still turn out to start a stop string is held back,
/// so a stream never shows a prefix of a stop; the stop itself and everything after it is never emitted.
/// </summary>
public sealed class StopStringMatcher(IReadOnlyList<string> stops)
{
    private string _held = "";

    /// <summary>True once a stop string was found.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds generated text; returns the text that is now final.</summary>
    public string Append(string piece)
    {
        if (Stopped) return "";
        if (stops.Count == 0) return piece;
        string pending = _held + piece;
        int first = -1;
        foreach (string stop in stops)
        {
            int at = pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        if (first >= 0)
        {
            Stopped = true;
            _held = "";
            return pending[..first];
        }
        int hold = LongestSuffixThatStartsAStop(pending);
        _held = pending[^hold..];
        return pending[..^hold];
    }

    /// <summary>The held-back text, at the end of a sequence that did not stop on a string.</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _held;
        _held = "";
        return rest;
    }

    private int LongestSuffixThatStartsAStop(string text)
    {
        int best = 0;
        foreach (string stop in stops)
        {
            for (int length = Math.Min(stop.Length - 1, text.Length); length > best; length--)
            {
                if (string.CompareOrdinal(text, text.Length - length, stop, 0, length) == 0)
                {
                    best = length;
                    break;
                }
            }
        }
        return best;
    }
}
