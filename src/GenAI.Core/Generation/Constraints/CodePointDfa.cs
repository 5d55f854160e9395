namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// A deterministic automaton over Unicode code points (surrogates excluded), built eagerly from a regular expression
/// (<see cref="PatternCompiler"/>). Every state can still reach acceptance: a code point that would lead nowhere has
/// no transition, so a string lexer that follows it is never stuck. Immutable and shared by every request.
/// </summary>
internal sealed class CodePointDfa
{
    /// <summary>One past the largest code point.</summary>
    public const int CodePointLimit = 0x110000;

    private readonly int[][] _lows;
    private readonly int[][] _targets;
    private readonly bool[] _accepting;

    /// <summary>
    /// States 0..n-1; state s maps code points in [<c>lows[s][i]</c>, <c>lows[s][i+1]</c>) to <c>targets[s][i]</c>
    /// (-1: no transition); <c>lows[s][0]</c> is 0.
    /// </summary>
    public CodePointDfa(int[][] lows, int[][] targets, bool[] accepting, int start)
    {
        _lows = lows;
        _targets = targets;
        _accepting = accepting;
        Start = start;
    }

    /// <summary>The initial state.</summary>
    public int Start { get; }

    /// <summary>Number of states.</summary>
    public int StateCount => _accepting.Length;

    /// <summary>True when the code points read so far form a match.</summary>
    public bool IsAccepting(int state) => _accepting[state];

    /// <summary>The state after <paramref name="codePoint"/>, or -1 when no match can continue with it.</summary>
    public int Next(int state, int codePoint)
    {
        var lows = _lows[state];
        int index = Array.BinarySearch(lows, codePoint);
        if (index < 0) index = ~index - 1;
        return _targets[state][index];
    }

    /// <summary>True when some code point in [<paramref name="low"/>, <paramref name="high"/>] has a transition.</summary>
    public bool HasTransitionIn(int state, int low, int high)
    {
        var lows = _lows[state];
        var targets = _targets[state];
        int index = Array.BinarySearch(lows, low);
        if (index < 0) index = ~index - 1;
        for (; index < lows.Length && lows[index] <= high; index++)
        {
            if (targets[index] >= 0) return true;
        }
        return false;
    }
}
