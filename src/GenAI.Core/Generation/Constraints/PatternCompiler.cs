using System.Globalization;

namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// Compiles a JSON Schema <c>pattern</c> (ECMA-262 syntax, unanchored unless it starts with <c>^</c> / ends with
/// <c>$</c>, as JSON Schema defines) into a <see cref="CodePointDfa"/>. The subset is what a finite automaton can do:
/// literals and escapes (<c>\d \w \s \D \W \S</c>, <c>\t \n \r \f \v \0</c>, <c>\xHH \uHHHH \u{H..}</c>, escaped
/// metacharacters), classes with ranges and negation, <c>.</c>, groups (capturing, <c>(?:)</c>, named), alternation,
/// quantifiers <c>* + ? {n} {n,} {n,m}</c> (lazy forms are the same language), and anchors at the start or end of a
/// top-level alternative. Backreferences, lookaround, word boundaries, <c>\p{..}</c> and anchors elsewhere are refused
/// with <see cref="PatternException"/>, as are patterns whose automaton would exceed the size limits.
/// </summary>
internal static class PatternCompiler
{
    /// <summary>Most NFA states a pattern may expand to (bounded repetitions are copied).</summary>
    public const int MaxNfaStates = 20_000;

    /// <summary>Most DFA states a pattern may need.</summary>
    public const int MaxDfaStates = 4_000;

    /// <summary>Compiles <paramref name="pattern"/>; throws <see cref="PatternException"/> for what is not supported.</summary>
    public static CodePointDfa Compile(string pattern)
    {
        var node = new Parser(pattern).ParsePattern();
        var nfa = new Nfa();
        int start = nfa.NewState(), accept = nfa.NewState();
        nfa.Build(node, start, accept);
        return Determinize(nfa, start, accept);
    }

    // ---- AST ----

    internal abstract record Node;
    private sealed record SetNode(CharSet Set) : Node;
    private sealed record ConcatNode(List<Node> Items) : Node;
    private sealed record AltNode(List<Node> Items) : Node;
    private sealed record RepeatNode(Node Item, int Min, int Max) : Node; // Max -1: unbounded

    /// <summary>A set of code points as sorted, disjoint, non-adjacent inclusive ranges.</summary>
    internal sealed class CharSet
    {
        public List<(int Lo, int Hi)> Ranges { get; } = [];

        public static CharSet Of(params (int Lo, int Hi)[] ranges)
        {
            var set = new CharSet();
            foreach (var r in ranges) set.Add(r.Lo, r.Hi);
            return set;
        }

        public void Add(int lo, int hi)
        {
            Ranges.Add((lo, hi));
            Normalize();
        }

        public void AddAll(CharSet other)
        {
            Ranges.AddRange(other.Ranges);
            Normalize();
        }

        private void Normalize()
        {
            Ranges.Sort((a, b) => a.Lo.CompareTo(b.Lo));
            var merged = new List<(int Lo, int Hi)>();
            foreach (var r in Ranges)
            {
                if (merged.Count > 0 && r.Lo <= merged[^1].Hi + 1) merged[^1] = (merged[^1].Lo, Math.Max(merged[^1].Hi, r.Hi));
                else merged.Add(r);
            }
            Ranges.Clear();
            Ranges.AddRange(merged);
        }

        public CharSet Complement()
        {
            var result = new CharSet();
            int next = 0;
            foreach (var (lo, hi) in Ranges)
            {
                if (lo > next) result.Ranges.Add((next, lo - 1));
                next = hi + 1;
            }
            if (next < CodePointDfa.CodePointLimit) result.Ranges.Add((next, CodePointDfa.CodePointLimit - 1));
            return result;
        }

        /// <summary>The set without UTF-16 surrogates, which no JSON string here carries.</summary>
        public CharSet WithoutSurrogates()
        {
            var result = new CharSet();
            foreach (var (lo, hi) in Ranges)
            {
                if (hi < 0xD800 || lo > 0xDFFF) result.Ranges.Add((lo, hi));
                else
                {
                    if (lo < 0xD800) result.Ranges.Add((lo, 0xD7FF));
                    if (hi > 0xDFFF) result.Ranges.Add((0xE000, hi));
                }
            }
            return result;
        }
    }

    private static readonly CharSet Digits = CharSet.Of(('0', '9'));
    private static readonly CharSet Word = CharSet.Of(('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z'));
    private static readonly CharSet Space = CharSet.Of(('\t', '\r'), (' ', ' '), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
        (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF));
    private static readonly CharSet LineTerminators = CharSet.Of(('\n', '\n'), ('\r', '\r'), (0x2028, 0x2029));
    private static readonly CharSet Any = CharSet.Of((0, CodePointDfa.CodePointLimit - 1));

    // ---- Parser ----

    private sealed class Parser(string pattern)
    {
        private int _position;

        public Node ParsePattern()
        {
            // Top-level alternatives may each be anchored; an unanchored side matches anything there (JSON Schema's
            // patterns search the string).
            var alternatives = new List<Node>();
            while (true)
            {
                bool anchoredStart = Peek('^');
                if (anchoredStart) _position++;
                var items = ParseConcatItems(topLevel: true, out bool anchoredEnd);
                if (!anchoredStart) items.Insert(0, new RepeatNode(new SetNode(Any), 0, -1));
                if (!anchoredEnd) items.Add(new RepeatNode(new SetNode(Any), 0, -1));
                alternatives.Add(new ConcatNode(items));
                if (_position >= pattern.Length) break;
                if (pattern[_position] == '|')
                {
                    _position++;
                    continue;
                }
                throw Error($"unbalanced ')' at position {_position}");
            }
            return alternatives.Count == 1 ? alternatives[0] : new AltNode(alternatives);
        }

        private bool Peek(char c) => _position < pattern.Length && pattern[_position] == c;

        private PatternException Error(string message) => new($"pattern '{pattern}': {message}");

        private Node ParseAlternation()
        {
            var alternatives = new List<Node> { new ConcatNode(ParseConcatItems(topLevel: false, out _)) };
            while (Peek('|'))
            {
                _position++;
                alternatives.Add(new ConcatNode(ParseConcatItems(topLevel: false, out _)));
            }
            return alternatives.Count == 1 ? alternatives[0] : new AltNode(alternatives);
        }

        private List<Node> ParseConcatItems(bool topLevel, out bool anchoredEnd)
        {
            anchoredEnd = false;
            var items = new List<Node>();
            while (_position < pattern.Length && pattern[_position] is not ('|' or ')'))
            {
                char c = pattern[_position];
                if (c == '$')
                {
                    _position++;
                    if (topLevel && (_position == pattern.Length || pattern[_position] == '|'))
                    {
                        anchoredEnd = true;
                        break;
                    }
                    throw Error("'$' is supported only at the end of the pattern or of a top-level alternative");
                }
                if (c == '^') throw Error("'^' is supported only at the start of the pattern or of a top-level alternative");
                var atom = ParseAtom();
                items.Add(ParseQuantifier(atom));
            }
            return items;
        }

        private Node ParseQuantifier(Node atom)
        {
            while (_position < pattern.Length)
            {
                char c = pattern[_position];
                int min, max;
                if (c == '*') (min, max) = (0, -1);
                else if (c == '+') (min, max) = (1, -1);
                else if (c == '?') (min, max) = (0, 1);
                else if (c == '{' && TryParseBraces(out min, out max)) { }
                else break;
                if (c != '{') _position++;
                if (Peek('?')) _position++; // lazy: the same language
                if (Peek('+')) throw Error("possessive quantifiers are not ECMA-262");
                atom = new RepeatNode(atom, min, max);
            }
            return atom;
        }

        private bool TryParseBraces(out int min, out int max)
        {
            min = max = 0;
            int close = pattern.IndexOf('}', _position);
            if (close < 0) return false;
            string body = pattern[(_position + 1)..close];
            string[] parts = body.Split(',');
            if (parts.Length is < 1 or > 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out min)) return false;
            if (parts.Length == 1) max = min;
            else if (parts[1].Length == 0) max = -1;
            else if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out max)) return false;
            if (max >= 0 && max < min) throw Error($"quantifier {{{body}}} has its bounds out of order");
            if (min > 1000 || max > 1000) throw Error($"quantifier {{{body}}} exceeds 1000 repetitions");
            _position = close + 1;
            return true;
        }

        private Node ParseAtom()
        {
            char c = pattern[_position];
            switch (c)
            {
                case '(':
                    _position++;
                    if (Peek('?'))
                    {
                        if (_position + 1 < pattern.Length && pattern[_position + 1] == ':') _position += 2;
                        else if (_position + 1 < pattern.Length && pattern[_position + 1] == '<' && _position + 2 < pattern.Length && pattern[_position + 2] is not ('=' or '!'))
                        {
                            int close = pattern.IndexOf('>', _position);
                            if (close < 0) throw Error("unterminated group name");
                            _position = close + 1;
                        }
                        else throw Error($"lookaround and other '(?' groups are not supported (position {_position - 1})");
                    }
                    var inner = ParseAlternation();
                    if (!Peek(')')) throw Error("missing ')'");
                    _position++;
                    return inner;
                case '[':
                    return new SetNode(ParseClass());
                case '.':
                    _position++;
                    return new SetNode(LineTerminators.Complement());
                case '\\':
                    _position++;
                    return new SetNode(ParseEscape(inClass: false));
                case '*' or '+' or '?':
                    throw Error($"nothing to repeat at position {_position}");
                default:
                    int cp = CodePointAt(pattern, _position, out int width);
                    _position += width;
                    return new SetNode(CharSet.Of((cp, cp)));
            }
        }

        private CharSet ParseClass()
        {
            _position++; // [
            bool negated = Peek('^');
            if (negated) _position++;
            var set = new CharSet();
            while (true)
            {
                if (_position >= pattern.Length) throw Error("missing ']'");
                if (pattern[_position] == ']')
                {
                    _position++;
                    break;
                }
                var low = ClassAtom();
                if (Peek('-') && _position + 1 < pattern.Length && pattern[_position + 1] != ']')
                {
                    _position++;
                    var high = ClassAtom();
                    if (low.Ranges.Count != 1 || low.Ranges[0].Lo != low.Ranges[0].Hi || high.Ranges.Count != 1 || high.Ranges[0].Lo != high.Ranges[0].Hi)
                    {
                        throw Error("a class range needs single characters at both ends");
                    }
                    if (high.Ranges[0].Lo < low.Ranges[0].Lo) throw Error("a class range is out of order");
                    set.Add(low.Ranges[0].Lo, high.Ranges[0].Lo);
                }
                else
                {
                    set.AddAll(low);
                }
            }
            return negated ? set.Complement() : set;
        }

        private CharSet ClassAtom()
        {
            if (pattern[_position] == '\\')
            {
                _position++;
                return ParseEscape(inClass: true);
            }
            int cp = CodePointAt(pattern, _position, out int width);
            _position += width;
            return CharSet.Of((cp, cp));
        }

        private CharSet ParseEscape(bool inClass)
        {
            if (_position >= pattern.Length) throw Error("a pattern cannot end with '\\'");
            char c = pattern[_position++];
            switch (c)
            {
                case 'd': return Digits;
                case 'D': return Digits.Complement();
                case 'w': return Word;
                case 'W': return Word.Complement();
                case 's': return Space;
                case 'S': return Space.Complement();
                case 't': return Single('\t');
                case 'n': return Single('\n');
                case 'r': return Single('\r');
                case 'f': return Single('\f');
                case 'v': return Single('\v');
                case '0' when _position >= pattern.Length || !char.IsAsciiDigit(pattern[_position]): return Single('\0');
                case 'b' when inClass: return Single('\b');
                case 'x': return Single(Hex(2));
                case 'u' when Peek('{'):
                {
                    int close = pattern.IndexOf('}', _position);
                    if (close < 0 || !int.TryParse(pattern.AsSpan(_position + 1, close - _position - 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int cp) || cp >= CodePointDfa.CodePointLimit)
                    {
                        throw Error("malformed \\u{...} escape");
                    }
                    _position = close + 1;
                    return Single(cp);
                }
                case 'u':
                {
                    int unit = Hex(4);
                    // A surrogate pair written as two escapes is one code point.
                    if (unit is >= 0xD800 and <= 0xDBFF && _position + 5 < pattern.Length && pattern[_position] == '\\' && pattern[_position + 1] == 'u')
                    {
                        _position += 2;
                        int low = Hex(4);
                        if (low is < 0xDC00 or > 0xDFFF) throw Error("a high surrogate escape must be followed by a low one");
                        return Single(char.ConvertToUtf32((char)unit, (char)low));
                    }
                    return Single(unit);
                }
                case 'b' or 'B': throw Error("word boundaries (\\b, \\B) are not supported");
                case 'p' or 'P': throw Error("Unicode property escapes (\\p{..}) are not supported");
                case 'c': throw Error("control escapes (\\cX) are not supported");
                case 'k': throw Error("backreferences are not supported");
                default:
                    if (char.IsAsciiDigit(c)) throw Error("backreferences are not supported");
                    if (char.IsAsciiLetterOrDigit(c)) throw Error($"unknown escape '\\{c}'");
                    _position--;
                    int cp2 = CodePointAt(pattern, _position, out int width);
                    _position += width;
                    return Single(cp2);
            }
        }

        private static CharSet Single(int cp) => CharSet.Of((cp, cp));

        private int Hex(int digits)
        {
            if (_position + digits > pattern.Length || !int.TryParse(pattern.AsSpan(_position, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value))
            {
                throw Error($"expected {digits} hex digits at position {_position}");
            }
            _position += digits;
            return value;
        }
    }

    private static int CodePointAt(string s, int index, out int width)
    {
        if (char.IsHighSurrogate(s[index]) && index + 1 < s.Length && char.IsLowSurrogate(s[index + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(s[index], s[index + 1]);
        }
        width = 1;
        return s[index];
    }

    // ---- NFA (Thompson) ----

    private sealed class Nfa
    {
        public List<List<int>> Epsilon { get; } = [];
        public List<List<(CharSet Set, int Target)>> Moves { get; } = [];

        public int NewState()
        {
            if (Epsilon.Count >= MaxNfaStates) throw new PatternException($"the pattern expands to more than {MaxNfaStates} automaton states");
            Epsilon.Add([]);
            Moves.Add([]);
            return Epsilon.Count - 1;
        }

        /// <summary>Adds states so that <paramref name="from"/> reaches <paramref name="to"/> by exactly the strings of <paramref name="node"/>.</summary>
        public void Build(Node node, int from, int to)
        {
            switch (node)
            {
                case SetNode set:
                    var chars = set.Set.WithoutSurrogates();
                    if (chars.Ranges.Count > 0) Moves[from].Add((chars, to));
                    break;
                case ConcatNode concat:
                    int current = from;
                    for (int i = 0; i < concat.Items.Count; i++)
                    {
                        int next = i == concat.Items.Count - 1 ? to : NewState();
                        Build(concat.Items[i], current, next);
                        current = next;
                    }
                    if (concat.Items.Count == 0) Epsilon[from].Add(to);
                    break;
                case AltNode alt:
                    foreach (var item in alt.Items) Build(item, from, to);
                    break;
                case RepeatNode repeat:
                    int at = from;
                    for (int i = 0; i < repeat.Min; i++)
                    {
                        int next = NewState();
                        Build(repeat.Item, at, next);
                        at = next;
                    }
                    if (repeat.Max < 0)
                    {
                        int loop = NewState();
                        Epsilon[at].Add(loop);
                        Build(repeat.Item, loop, loop);
                        Epsilon[loop].Add(to);
                    }
                    else
                    {
                        for (int i = repeat.Min; i < repeat.Max; i++)
                        {
                            Epsilon[at].Add(to);
                            int next = NewState();
                            Build(repeat.Item, at, next);
                            at = next;
                        }
                        Epsilon[at].Add(to);
                    }
                    break;
            }
        }
    }

    // ---- DFA (subset construction over code point intervals) ----

    private static CodePointDfa Determinize(Nfa nfa, int start, int accept)
    {
        int n = nfa.Epsilon.Count;
        // States that can still reach acceptance; the others are dropped from every set.
        var live = new bool[n];
        var reverse = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        for (int s = 0; s < n; s++)
        {
            foreach (int t in nfa.Epsilon[s]) reverse[t].Add(s);
            foreach (var (_, t) in nfa.Moves[s]) reverse[t].Add(s);
        }
        var work = new Stack<int>();
        live[accept] = true;
        work.Push(accept);
        while (work.Count > 0)
        {
            foreach (int p in reverse[work.Pop()])
            {
                if (!live[p])
                {
                    live[p] = true;
                    work.Push(p);
                }
            }
        }

        int[] Closure(IEnumerable<int> states)
        {
            var seen = new HashSet<int>();
            var stack = new Stack<int>(states.Where(s => live[s]));
            while (stack.Count > 0)
            {
                int s = stack.Pop();
                if (!seen.Add(s)) continue;
                foreach (int t in nfa.Epsilon[s]) if (live[t]) stack.Push(t);
            }
            var result = seen.ToArray();
            Array.Sort(result);
            return result;
        }

        var ids = new Dictionary<string, int>();
        var sets = new List<int[]>();
        var lows = new List<int[]>();
        var targets = new List<int[]>();
        int Intern(int[] set)
        {
            string key = string.Join(',', set);
            if (ids.TryGetValue(key, out int id)) return id;
            if (sets.Count >= MaxDfaStates) throw new PatternException($"the pattern needs more than {MaxDfaStates} automaton states");
            id = sets.Count;
            ids[key] = id;
            sets.Add(set);
            lows.Add([]);
            targets.Add([]);
            return id;
        }

        var startSet = Closure([start]);
        if (startSet.Length == 0) throw new PatternException("the pattern matches no string");
        int startId = Intern(startSet);
        for (int d = 0; d < sets.Count; d++)
        {
            var moves = sets[d].SelectMany(s => nfa.Moves[s]).Where(m => live[m.Target]).ToList();
            var bounds = new SortedSet<int> { 0 };
            foreach (var (set, _) in moves)
            {
                foreach (var (lo, hi) in set.Ranges)
                {
                    bounds.Add(lo);
                    if (hi + 1 < CodePointDfa.CodePointLimit) bounds.Add(hi + 1);
                }
            }
            var stateLows = new List<int>();
            var stateTargets = new List<int>();
            foreach (int low in bounds)
            {
                var next = moves.Where(m => Contains(m.Set, low)).Select(m => m.Target).ToList();
                int target = next.Count == 0 ? -1 : Intern(Closure(next));
                if (stateTargets.Count > 0 && stateTargets[^1] == target) continue;
                stateLows.Add(low);
                stateTargets.Add(target);
            }
            lows[d] = [.. stateLows];
            targets[d] = [.. stateTargets];
        }
        var accepting = sets.Select(s => Array.BinarySearch(s, accept) >= 0).ToArray();
        return new CodePointDfa([.. lows], [.. targets], accepting, startId);
    }

    private static bool Contains(CharSet set, int cp)
    {
        foreach (var (lo, hi) in set.Ranges)
        {
            if (cp < lo) return false;
            if (cp <= hi) return true;
        }
        return false;
    }
}

/// <summary>A <c>pattern</c> this implementation cannot compile (unsupported syntax or too large).</summary>
internal sealed class PatternException(string message) : Exception(message);
