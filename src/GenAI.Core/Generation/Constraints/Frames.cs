namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// One level of the JSON pushdown automaton that reads output BYTES: the innermost value being written (a string's
/// lexer, a number, an object between its keys...) over the frames it returns to (<see cref="Below"/>). Frames are
/// immutable and persistent — a step makes new frames for what changed and shares the rest — so a walk over the
/// token trie can branch from any state at no copying cost, and equal stacks are equal values (the mask cache keys).
/// A step may give several frames (anyOf alternatives that agree so far) or none (the byte is not allowed).
/// </summary>
internal abstract class Frame : IEquatable<Frame>
{
    /// <summary>The pseudo-byte "end of output": accepted only where the whole value is complete.</summary>
    public const int End = 256;

    private int _hash;

    protected Frame(Grammar grammar, Frame? below, int depth)
    {
        Grammar = grammar;
        Below = below;
        Depth = depth;
    }

    public Grammar Grammar { get; }

    /// <summary>The frame this one returns to when its value is complete (null for the root).</summary>
    public Frame? Below { get; }

    /// <summary>Open objects and arrays at this frame, itself included when it is one.</summary>
    public int Depth { get; }

    /// <summary>Adds the frames after reading <paramref name="b"/> (0..255, or <see cref="End"/>) to <paramref name="output"/>.</summary>
    public abstract void Step(int b, List<Frame> output);

    /// <summary>This frame once the value it waited for is complete; <paramref name="value"/> is that value's literal index (keys).</summary>
    public virtual Frame Resume(int value) => this;

    /// <summary>True for a string without a pattern between characters: every plain token leaves it as it is.</summary>
    public virtual bool IsPlainStringContent => false;

    /// <summary>True for the root once the value is complete: only the end may follow.</summary>
    public virtual bool IsFinished => false;

    protected abstract int LocalHash();

    protected abstract bool LocalEquals(Frame other);

    public sealed override int GetHashCode()
    {
        if (_hash == 0)
        {
            int hash = HashCode.Combine(GetType(), LocalHash(), Below?.GetHashCode() ?? 17);
            _hash = hash == 0 ? 1 : hash;
        }
        return _hash;
    }

    public bool Equals(Frame? other) =>
        ReferenceEquals(this, other)
        || other is not null && other.GetType() == GetType() && other.GetHashCode() == GetHashCode() && LocalEquals(other)
           && (ReferenceEquals(Below, other.Below) || Below is not null && Below.Equals(other.Below));

    public sealed override bool Equals(object? obj) => obj is Frame frame && Equals(frame);

    /// <summary>The value ended with the byte just read: the frame below carries on.</summary>
    protected void Pop(int value, List<Frame> output) => output.Add(Below!.Resume(value));

    /// <summary>The value ended before <paramref name="b"/>: the frame below reads it.</summary>
    protected void PopAndStep(int value, int b, List<Frame> output) => Below!.Resume(value).Step(b, output);

    /// <summary>The whitespace the grammar allows between lexemes (space and newline; tabs and CR are not written).</summary>
    protected static bool IsWhitespace(int b) => b is ' ' or '\n';

    protected int MaxWhitespace => Grammar.Options.MaxWhitespace;
}

/// <summary>Starts values: a value is always begun by its first byte, which picks the node's frame (or several, for anyOf).</summary>
internal static class Values
{
    /// <summary>
    /// Adds the frames of a value of <paramref name="node"/> begun by <paramref name="b"/>, inside
    /// <paramref name="depth"/> open containers, returning to <paramref name="resume"/>. Nothing when the node cannot
    /// close within the nesting limit from there.
    /// </summary>
    public static void Start(Grammar grammar, SchemaNode node, int b, Frame resume, int depth, List<Frame> output)
    {
        if (b == Frame.End || depth + node.MinDepth > grammar.Options.MaxNestingDepth) return;
        switch (node)
        {
            case RefNode reference:
                Start(grammar, reference.Target, b, resume, depth, output);
                break;
            case AnyOfNode anyOf:
                foreach (var alternative in anyOf.Alternatives) Start(grammar, alternative, b, resume, depth, output);
                break;
            case ObjectNode obj when b == '{':
                output.Add(new ObjectFrame(grammar, obj, resume, depth + 1, ObjectPhase.Open, 0, 0));
                break;
            case ArrayNode array when b == '[':
                output.Add(new ArrayFrame(grammar, array, resume, depth + 1, ArrayPhase.Open, 0, 0));
                break;
            case StringNode str when b == '"':
                output.Add(StringFrame.Content(grammar, str, resume, depth, str.Pattern?.Start ?? 0));
                break;
            case NumberNode number:
                NumberFrame.Start(grammar, number, b, resume, depth, output);
                break;
            case LiteralNode literal:
                LiteralFrame.Enter(grammar, literal.Trie, literal.Trie.Child(0, b), resume, depth, output);
                break;
        }
    }
}

/// <summary>The bottom of every stack: the one value, then the end.</summary>
internal sealed class RootFrame : Frame
{
    private readonly bool _done;
    private readonly int _whitespace, _leading;

    /// <summary>A root that allows <paramref name="leadingWhitespace"/> whitespace bytes before the value.</summary>
    public RootFrame(Grammar grammar, int leadingWhitespace) : this(grammar, false, 0, leadingWhitespace)
    {
    }

    private RootFrame(Grammar grammar, bool done, int whitespace, int leading) : base(grammar, null, 0)
    {
        _done = done;
        _whitespace = whitespace;
        _leading = leading;
    }

    public override bool IsFinished => _done;

    public override void Step(int b, List<Frame> output)
    {
        if (_done)
        {
            if (b == End) output.Add(this);
            return;
        }
        if (IsWhitespace(b) && _whitespace < _leading)
        {
            output.Add(new RootFrame(Grammar, false, _whitespace + 1, _leading));
            return;
        }
        Values.Start(Grammar, Grammar.Root, b, new RootFrame(Grammar, true, 0, 0), 0, output);
    }

    // The grammar is part of the root's identity: the nodes above name it too, but a bare root does not.
    protected override int LocalHash() => HashCode.Combine(Grammar, _done, _whitespace, _leading);

    protected override bool LocalEquals(Frame other) =>
        other is RootFrame o && o.Grammar == Grammar && o._done == _done && o._whitespace == _whitespace && o._leading == _leading;
}

internal enum ObjectPhase : byte
{
    Open,       // after '{'
    Key,        // a key is being read (the frame waits below it)
    AfterKey,   // before ':'
    AfterColon, // before the value
    AfterValue, // before ',' or '}'
    AfterComma, // before the next key
}

/// <summary>An object being written; <see cref="_index"/> is the property of the current key (declared objects).</summary>
internal sealed class ObjectFrame : Frame
{
    private static readonly StringNode MapKey = new() { MinDepth = 0, Path = "(key)" };

    private readonly ObjectNode _node;
    private readonly ObjectPhase _phase;
    private readonly int _index, _whitespace;

    public ObjectFrame(Grammar grammar, ObjectNode node, Frame? below, int depth, ObjectPhase phase, int index, int whitespace)
        : base(grammar, below, depth)
    {
        _node = node;
        _phase = phase;
        _index = index;
        _whitespace = whitespace;
    }

    private ObjectFrame With(ObjectPhase phase, int index, int whitespace = 0) => new(Grammar, _node, Below, Depth, phase, index, whitespace);

    public override void Step(int b, List<Frame> output)
    {
        if (b == End || _phase == ObjectPhase.Key) return;
        if (IsWhitespace(b))
        {
            if (_whitespace < MaxWhitespace) output.Add(With(_phase, _index, _whitespace + 1));
            return;
        }
        switch (_phase)
        {
            case ObjectPhase.Open:
                if (b == '}' && _node.CanCloseFrom(0)) Pop(0, output);
                else if (b == '"') StartKey(0, output);
                break;
            case ObjectPhase.AfterKey:
                if (b == ':') output.Add(With(ObjectPhase.AfterColon, _index));
                break;
            case ObjectPhase.AfterColon:
                var value = _node.Values ?? _node.Properties[_index].Value;
                Values.Start(Grammar, value, b, With(ObjectPhase.AfterValue, _index), Depth, output);
                break;
            case ObjectPhase.AfterValue:
                if (b == ',' && HasKeyFrom(_index + 1)) output.Add(With(ObjectPhase.AfterComma, _index));
                else if (b == '}' && _node.CanCloseFrom(_node.IsMap ? 0 : _index + 1)) Pop(0, output);
                break;
            case ObjectPhase.AfterComma:
                if (b == '"') StartKey(_index + 1, output);
                break;
        }
    }

    private bool HasKeyFrom(int from) => _node.IsMap || !_node.KeyTrie(from, Depth, Grammar.Options.MaxNestingDepth).IsEmpty;

    private void StartKey(int from, List<Frame> output)
    {
        var waiting = With(ObjectPhase.Key, from);
        if (_node.IsMap)
        {
            output.Add(StringFrame.Content(Grammar, MapKey, waiting, Depth, 0));
            return;
        }
        var keys = _node.KeyTrie(from, Depth, Grammar.Options.MaxNestingDepth);
        LiteralFrame.Enter(Grammar, keys, keys.Child(0, '"'), waiting, Depth, output);
    }

    public override Frame Resume(int value) =>
        _phase == ObjectPhase.Key ? With(ObjectPhase.AfterKey, _node.IsMap ? 0 : value) : this;

    protected override int LocalHash() => HashCode.Combine(_node, _phase, _index, _whitespace);

    protected override bool LocalEquals(Frame other) =>
        other is ObjectFrame o && o._node == _node && o._phase == _phase && o._index == _index && o._whitespace == _whitespace;
}

internal enum ArrayPhase : byte
{
    Open,      // after '['
    AfterItem, // before ',' or ']'
    AfterComma // before the next item
}

/// <summary>An array being written; <see cref="_count"/> items so far (capped where the bounds no longer care).</summary>
internal sealed class ArrayFrame : Frame
{
    private readonly ArrayNode _node;
    private readonly ArrayPhase _phase;
    private readonly int _count, _whitespace;

    public ArrayFrame(Grammar grammar, ArrayNode node, Frame? below, int depth, ArrayPhase phase, int count, int whitespace)
        : base(grammar, below, depth)
    {
        _node = node;
        _phase = phase;
        // Past minItems an unbounded array's count changes nothing: equal states stay equal (and cached).
        _count = node.MaxItems == ArrayNode.Unbounded ? Math.Min(count, node.MinItems) : count;
        _whitespace = whitespace;
    }

    private ArrayFrame With(ArrayPhase phase, int count, int whitespace = 0) => new(Grammar, _node, Below, Depth, phase, count, whitespace);

    private bool MayAddItem(int count) =>
        count < _node.MaxItems && (count < _node.MinItems || Depth + _node.Items.MinDepth <= Grammar.Options.MaxNestingDepth);

    public override void Step(int b, List<Frame> output)
    {
        if (b == End) return;
        if (IsWhitespace(b))
        {
            if (_whitespace < MaxWhitespace) output.Add(With(_phase, _count, _whitespace + 1));
            return;
        }
        switch (_phase)
        {
            case ArrayPhase.Open:
                if (b == ']' && _node.MinItems == 0) Pop(0, output);
                else if (MayAddItem(0)) Values.Start(Grammar, _node.Items, b, With(ArrayPhase.AfterItem, 1), Depth, output);
                break;
            case ArrayPhase.AfterItem:
                if (b == ',' && MayAddItem(_count)) output.Add(With(ArrayPhase.AfterComma, _count));
                else if (b == ']' && _count >= _node.MinItems) Pop(0, output);
                break;
            case ArrayPhase.AfterComma:
                Values.Start(Grammar, _node.Items, b, With(ArrayPhase.AfterItem, _count + 1), Depth, output);
                break;
        }
    }

    protected override int LocalHash() => HashCode.Combine(_node, _phase, _count, _whitespace);

    protected override bool LocalEquals(Frame other) =>
        other is ArrayFrame o && o._node == _node && o._phase == _phase && o._count == _count && o._whitespace == _whitespace;
}

internal enum StringPhase : byte
{
    Content, // between characters
    Escape,  // after '\'
    Unicode, // after '\u' and some hex digits
    Utf8     // inside a multi-byte character
}

/// <summary>
/// A JSON string's lexer over bytes: UTF-8 checked as JSON requires it (no overlong forms or surrogates), escapes
/// (a <c>\u</c> escape never names a surrogate: characters beyond the BMP are written as UTF-8), no raw control
/// bytes. With a pattern, every decoded code point advances its automaton, and a partial character or escape is
/// allowed only if some completion keeps the pattern alive, so a string is never stuck.
/// </summary>
internal sealed class StringFrame : Frame
{
    private readonly StringNode _node;
    private readonly StringPhase _phase;
    private readonly int _dfa;      // the pattern's state
    private readonly int _pending;  // hex digits read (Unicode) or continuation bytes still due (Utf8)
    private readonly int _value;    // the code point so far
    private readonly byte _low, _high; // Utf8: the range of the next byte
    private readonly StringFrame? _home; // a plain string's content frame, returned to after each character

    private StringFrame(Grammar grammar, StringNode node, Frame? below, int depth, StringPhase phase, int dfa, int pending, int value,
        byte low, byte high, StringFrame? home) : base(grammar, below, depth)
    {
        _node = node;
        _phase = phase;
        _dfa = dfa;
        _pending = pending;
        _value = value;
        _low = low;
        _high = high;
        _home = home;
    }

    public static StringFrame Content(Grammar grammar, StringNode node, Frame below, int depth, int dfa) =>
        new(grammar, node, below, depth, StringPhase.Content, dfa, 0, 0, 0, 0, null);

    public override bool IsPlainStringContent => _phase == StringPhase.Content && _node.Pattern is null;

    private StringFrame Next(StringPhase phase, int pending, int value, byte low = 0, byte high = 0) =>
        new(Grammar, _node, Below, Depth, phase, _dfa, pending, value, low, high, _home ?? this);

    /// <summary>True when some code point in [low, high] keeps the pattern alive (always, without a pattern).</summary>
    private bool Alive(int low, int high) => _node.Pattern is not { } dfa || dfa.HasTransitionIn(_dfa, low, high);

    public override void Step(int b, List<Frame> output)
    {
        if (b == End) return;
        switch (_phase)
        {
            case StringPhase.Content:
                if (b == '"')
                {
                    if (_node.Pattern is not { } dfa || dfa.IsAccepting(_dfa)) Pop(0, output);
                }
                else if (b == '\\')
                {
                    if (Alive(0, 0xFFFF)) output.Add(Next(StringPhase.Escape, 0, 0));
                }
                else if (b < 0x20)
                {
                }
                else if (b < 0x80)
                {
                    Character(b, output);
                }
                else if (Utf8Rules.Lead((byte)b, out int continuations, out byte low, out byte high, out int bits))
                {
                    int shift = 6 * (continuations - 1);
                    int first = ((bits << 6) | (low & 0x3F)) << shift, last = (((bits << 6) | (high & 0x3F)) << shift) | ((1 << shift) - 1);
                    if (Alive(first, last)) output.Add(Next(StringPhase.Utf8, continuations, bits, low, high));
                }
                break;
            case StringPhase.Escape:
                int escaped = b switch
                {
                    '"' => '"', '\\' => '\\', '/' => '/', 'b' => '\b', 'f' => '\f', 'n' => '\n', 'r' => '\r', 't' => '\t',
                    _ => -1,
                };
                if (escaped >= 0) Character(escaped, output);
                else if (b == 'u') output.Add(Next(StringPhase.Unicode, 0, 0));
                break;
            case StringPhase.Unicode:
                int digit = HexValue(b);
                if (digit < 0) break;
                int value = (_value << 4) | digit, read = _pending + 1, rest = 4 * (4 - read);
                int lowest = value << rest, highest = ((value + 1) << rest) - 1;
                if (read == 4)
                {
                    if (value is < 0xD800 or > 0xDFFF) Character(value, output);
                }
                else if (!(lowest >= 0xD800 && highest <= 0xDFFF) && Alive(lowest, highest))
                {
                    output.Add(Next(StringPhase.Unicode, read, value));
                }
                break;
            case StringPhase.Utf8:
                if (b < _low || b > _high) break;
                int codePoint = (_value << 6) | (b & 0x3F), due = _pending - 1;
                if (due == 0)
                {
                    Character(codePoint, output);
                }
                else if (Alive(codePoint << (6 * due), ((codePoint + 1) << (6 * due)) - 1))
                {
                    output.Add(Next(StringPhase.Utf8, due, codePoint, 0x80, 0xBF));
                }
                break;
        }
    }

    private void Character(int codePoint, List<Frame> output)
    {
        if (_node.Pattern is not { } dfa)
        {
            output.Add(_home ?? this);
            return;
        }
        int next = dfa.Next(_dfa, codePoint);
        if (next >= 0) output.Add(new StringFrame(Grammar, _node, Below, Depth, StringPhase.Content, next, 0, 0, 0, 0, null));
    }

    private static int HexValue(int b) => b switch
    {
        >= '0' and <= '9' => b - '0',
        >= 'a' and <= 'f' => b - 'a' + 10,
        >= 'A' and <= 'F' => b - 'A' + 10,
        _ => -1,
    };

    protected override int LocalHash() => HashCode.Combine(_node, _phase, _dfa, _pending, _value, _low, _high);

    protected override bool LocalEquals(Frame other) =>
        other is StringFrame o && o._node == _node && o._phase == _phase && o._dfa == _dfa && o._pending == _pending && o._value == _value
        && o._low == _low && o._high == _high;
}

internal enum NumberPhase : byte
{
    Minus,    // '-'
    Zero,     // integer part "0"
    Integer,  // integer part starting 1-9
    Dot,      // '.' with no fraction digit yet
    Fraction, // fraction digits
    E,        // 'e' or 'E'
    ESign,    // exponent sign
    Exponent  // exponent digits
}

/// <summary>
/// A JSON number (RFC 8259's grammar) with bounded digits; an integer node writes no fraction or exponent. With
/// bounds, every prefix must still be completable to a value within them (checked in decimal arithmetic over what
/// the remaining digits can reach), so a bounded number is never stuck and always validates.
/// </summary>
internal sealed class NumberFrame : Frame
{
    private readonly NumberNode _node;
    private readonly NumberPhase _phase;
    private readonly bool _negative;
    private readonly int _integerDigits, _fractionDigits, _exponentDigits;
    private readonly long _integer, _fraction;

    private NumberFrame(Grammar grammar, NumberNode node, Frame? below, int depth, NumberPhase phase, bool negative, int integerDigits,
        long integer, int fractionDigits, long fraction, int exponentDigits) : base(grammar, below, depth)
    {
        _node = node;
        _phase = phase;
        _negative = negative;
        _integerDigits = integerDigits;
        _integer = integer;
        _fractionDigits = fractionDigits;
        _fraction = fraction;
        _exponentDigits = exponentDigits;
    }

    public static void Start(Grammar grammar, NumberNode node, int b, Frame resume, int depth, List<Frame> output)
    {
        NumberFrame? frame = b switch
        {
            '-' => new NumberFrame(grammar, node, resume, depth, NumberPhase.Minus, true, 0, 0, 0, 0, 0),
            '0' => new NumberFrame(grammar, node, resume, depth, NumberPhase.Zero, false, 1, 0, 0, 0, 0),
            >= '1' and <= '9' => new NumberFrame(grammar, node, resume, depth, NumberPhase.Integer, false, 1, b - '0', 0, 0, 0),
            _ => null,
        };
        if (frame is not null && frame.Feasible()) output.Add(frame);
    }

    /// <summary>True when some number satisfies the node's bounds within the grammar's digit limits.</summary>
    public static bool HasValue(NumberNode node, JsonGrammarOptions options)
    {
        var grammar = new Grammar(node, options);
        var output = new List<Frame>();
        foreach (char c in "-0123456789") Start(grammar, node, c, new RootFrame(grammar, 0), 0, output);
        return output.Count > 0;
    }

    private JsonGrammarOptions Options => Grammar.Options;

    private bool AllowsFraction => !_node.Integer && Options.MaxFractionDigits > 0;

    private bool AllowsExponent => !_node.Integer && !_node.IsBounded && Options.MaxExponentDigits > 0;

    private NumberFrame With(NumberPhase phase, int integerDigits, long integer, int fractionDigits, long fraction, int exponentDigits) =>
        new(Grammar, _node, Below, Depth, phase, _negative, integerDigits, integer, fractionDigits, fraction, exponentDigits);

    public override void Step(int b, List<Frame> output)
    {
        bool digit = b is >= '0' and <= '9';
        int d = b - '0';
        NumberFrame? next = null;
        switch (_phase)
        {
            case NumberPhase.Minus:
                if (b == '0') next = With(NumberPhase.Zero, 1, 0, 0, 0, 0);
                else if (digit) next = With(NumberPhase.Integer, 1, d, 0, 0, 0);
                break;
            case NumberPhase.Zero:
            case NumberPhase.Integer:
                if (digit && _phase == NumberPhase.Integer && _integerDigits < Options.MaxIntegerDigits) next = With(NumberPhase.Integer, _integerDigits + 1, _integer * 10 + d, 0, 0, 0);
                else if (b == '.' && AllowsFraction) next = With(NumberPhase.Dot, _integerDigits, _integer, 0, 0, 0);
                else if (b is 'e' or 'E' && AllowsExponent) next = With(NumberPhase.E, _integerDigits, _integer, 0, 0, 0);
                else Terminate(b, output);
                break;
            case NumberPhase.Dot:
                if (digit) next = With(NumberPhase.Fraction, _integerDigits, _integer, 1, d, 0);
                break;
            case NumberPhase.Fraction:
                if (digit && _fractionDigits < Options.MaxFractionDigits) next = With(NumberPhase.Fraction, _integerDigits, _integer, _fractionDigits + 1, _fraction * 10 + d, 0);
                else if (b is 'e' or 'E' && AllowsExponent) next = With(NumberPhase.E, _integerDigits, _integer, _fractionDigits, _fraction, 0);
                else Terminate(b, output);
                break;
            case NumberPhase.E:
                if (b is '+' or '-') next = With(NumberPhase.ESign, _integerDigits, _integer, _fractionDigits, _fraction, 0);
                else if (digit) next = With(NumberPhase.Exponent, _integerDigits, _integer, _fractionDigits, _fraction, 1);
                break;
            case NumberPhase.ESign:
                if (digit) next = With(NumberPhase.Exponent, _integerDigits, _integer, _fractionDigits, _fraction, 1);
                break;
            case NumberPhase.Exponent:
                if (digit && _exponentDigits < Options.MaxExponentDigits) next = With(NumberPhase.Exponent, _integerDigits, _integer, _fractionDigits, _fraction, _exponentDigits + 1);
                else if (!digit) Terminate(b, output);
                break;
        }
        if (next is not null && next.Feasible()) output.Add(next);
    }

    /// <summary>The number ends before <paramref name="b"/> if it is complete here and within the bounds.</summary>
    private void Terminate(int b, List<Frame> output)
    {
        if (b is >= '0' and <= '9') return; // a leading zero, or the digit limit: not the end of a number either
        if (!_node.IsBounded || Within(Magnitude(), Magnitude(), 1)) PopAndStep(0, b, output);
    }

    private decimal Unit => Pow10(-Options.MaxFractionDigits);

    private decimal Magnitude() => _integer + (_fractionDigits == 0 ? 0 : _fraction * Pow10(-_fractionDigits));

    /// <summary>True when some completion of this prefix lies within the node's bounds.</summary>
    private bool Feasible()
    {
        if (!_node.IsBounded) return true;
        decimal unit = _node.Integer ? 1 : Unit;
        switch (_phase)
        {
            case NumberPhase.Minus:
                return Within(0, Pow10(Options.MaxIntegerDigits) - unit, unit);
            case NumberPhase.Zero:
                return Within(0, _node.Integer ? 0 : 1 - unit, unit);
            case NumberPhase.Integer:
                for (int k = 0; _integerDigits + k <= Options.MaxIntegerDigits; k++)
                {
                    decimal scale = Pow10(k), low = _integer * scale;
                    decimal high = _node.Integer ? low + scale - 1 : (_integer + 1) * scale - unit;
                    if (Within(low, high, unit)) return true;
                }
                return false;
            case NumberPhase.Dot:
                return Within(_integer, _integer + 1 - unit, unit);
            case NumberPhase.Fraction:
                decimal start = Magnitude();
                return Within(start, start + Pow10(-_fractionDigits) - unit, unit);
            default:
                return true; // exponents are written only without bounds
        }
    }

    /// <summary>
    /// True when some magnitude low + j·unit ≤ high (j ≥ 0), signed as this number is, lies within the node's bounds.
    /// </summary>
    private bool Within(decimal low, decimal high, decimal unit)
    {
        // In magnitudes: a negative number's bounds are the positive ones mirrored.
        decimal? min = _negative ? -_node.Maximum : _node.Minimum, max = _negative ? -_node.Minimum : _node.Maximum;
        bool minExclusive = _negative ? _node.MaximumExclusive : _node.MinimumExclusive;
        bool maxExclusive = _negative ? _node.MinimumExclusive : _node.MaximumExclusive;
        decimal candidate = low;
        if (min is decimal m && (m > low || (m == low && minExclusive)))
        {
            candidate = low + Math.Ceiling((m - low) / unit) * unit;
            if (minExclusive && candidate == m) candidate += unit;
        }
        if (candidate > high) return false;
        return max is not decimal x || candidate < x || (candidate == x && !maxExclusive);
    }

    private static readonly decimal[] Powers = Enumerable.Range(0, 29).Select(i => Enumerable.Repeat(10m, i).Aggregate(1m, (a, b) => a * b)).ToArray();

    private static decimal Pow10(int exponent) => exponent >= 0 ? Powers[exponent] : 1m / Powers[-exponent];

    protected override int LocalHash() => HashCode.Combine(_node, _phase, _negative, _integerDigits, _integer, _fractionDigits, _fraction, _exponentDigits);

    protected override bool LocalEquals(Frame other) =>
        other is NumberFrame o && o._node == _node && o._phase == _phase && o._negative == _negative && o._integerDigits == _integerDigits
        && o._integer == _integer && o._fractionDigits == _fractionDigits && o._fraction == _fraction && o._exponentDigits == _exponentDigits;
}

/// <summary>A literal (key, enum or const value, true/false/null) being matched against its trie.</summary>
internal sealed class LiteralFrame : Frame
{
    private readonly LiteralTrie _trie;
    private readonly int _node;

    private LiteralFrame(Grammar grammar, LiteralTrie trie, int node, Frame below, int depth) : base(grammar, below, depth)
    {
        _trie = trie;
        _node = node;
    }

    /// <summary>Moves to trie node <paramref name="node"/> (-1: no such literal): a leaf completes the literal at once.</summary>
    public static void Enter(Grammar grammar, LiteralTrie trie, int node, Frame resume, int depth, List<Frame> output)
    {
        if (node < 0) return;
        if (trie.IsLeaf(node)) output.Add(resume.Resume(trie.Accept(node)));
        else output.Add(new LiteralFrame(grammar, trie, node, resume, depth));
    }

    public override void Step(int b, List<Frame> output)
    {
        int child = _trie.Child(_node, b);
        // A longer literal continues (its next byte can never follow a complete JSON value); otherwise a complete one ends.
        if (child >= 0) Enter(Grammar, _trie, child, Below!, Depth, output);
        else if (_trie.Accept(_node) >= 0) PopAndStep(_trie.Accept(_node), b, output);
    }

    protected override int LocalHash() => HashCode.Combine(_trie, _node);

    protected override bool LocalEquals(Frame other) => other is LiteralFrame o && o._trie == _trie && o._node == _node;
}
