using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>
/// A regular expression of a tokenizer.json (written for Oniguruma, which tokenizers compiles them with, in its Ruby
/// syntax, matching on code points) run by .NET's engine with the same results:
/// <list type="bullet">
/// <item>.NET matches UTF-16 code units, so <c>\p{L}</c> would not match a surrogate pair. Text with characters
/// outside the BMP is matched as a shadow string in which each such code point is one BMP stand-in character of the
/// same general category (none is whitespace, none has a case partner among ASCII letters), and match positions
/// are mapped back.</item>
/// <item>Ruby syntax differs in a few places: <c>^</c>/<c>$</c> are line anchors, <c>(?m)</c> is .NET's
/// <c>(?s)</c>, <c>\h</c> is a hex digit, <c>\w</c>/<c>\b</c> use Oniguruma's word characters, <c>{n,m}+</c>
/// repeats an interval, <c>\x{…}</c> and possessive quantifiers exist, and case-insensitive <c>s</c> also matches
/// <c>ſ</c>. These are translated; what has no .NET equivalent (POSIX brackets, nested classes, script properties,
/// characters outside the BMP in the pattern) is refused.</item>
/// <item>An empty match right where the previous match ended is skipped, as Oniguruma's iterator does.</item>
/// </list>
/// </summary>
internal sealed class OnigurumaRegex
{
    /// <summary>
    /// Oniguruma's \w inside a character class (its Unicode Word property): letters, marks, decimal digits,
    /// connector punctuation, letter numbers and the circled Latin letters — measured against tokenizers over all
    /// code points.
    /// </summary>
    private const string WordPropertyBody = @"\p{L}\p{M}\p{Nd}\p{Pc}\p{Nl}\u24B6-\u24E9";

    /// <summary>Oniguruma's \w on its own, whose Latin-1 table also counts ² ³ ¹ ¼ ½ ¾ as word characters.</summary>
    private const string WordClassBody = WordPropertyBody + @"\u00B2\u00B3\u00B9\u00BC-\u00BE";

    private const string WordClass = "[" + WordClassBody + "]";

    private readonly Regex _regex;

    public OnigurumaRegex(string pattern)
    {
        Pattern = pattern;
        string translated = Translate(pattern);
        try
        {
            _regex = new Regex(translated, RegexOptions.Multiline | RegexOptions.CultureInvariant | RegexOptions.Compiled);
        }
        catch (ArgumentException e)
        {
            throw new UnsupportedPatternException($"regex '{pattern}' does not compile for .NET: {e.Message}");
        }
    }

    /// <summary>The pattern as tokenizer.json writes it.</summary>
    public string Pattern { get; }

    /// <summary>The (start, end) UTF-16 ranges of the matches in <paramref name="text"/>, left to right.</summary>
    public void FindMatches(string text, List<(int Start, int End)> matches)
    {
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            Collect(text, null, matches);
            return;
        }
        var shadow = new char[text.Length];
        var originalIndex = new int[text.Length + 1];
        int length = 0;
        for (int i = 0; i < text.Length; i++)
        {
            originalIndex[length] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                shadow[length++] = StandIn(char.ConvertToUtf32(text[i], text[i + 1]));
                i++;
            }
            else
            {
                shadow[length++] = text[i];
            }
        }
        originalIndex[length] = text.Length;
        Collect(shadow.AsSpan(0, length), originalIndex, matches);
    }

    private void Collect(ReadOnlySpan<char> input, int[]? originalIndex, List<(int Start, int End)> matches)
    {
        int previousEnd = -1;
        foreach (var match in _regex.EnumerateMatches(input))
        {
            int start = match.Index, end = match.Index + match.Length;
            if (start == end && end == previousEnd) continue;
            previousEnd = end;
            matches.Add(originalIndex is null ? (start, end) : (originalIndex[start], originalIndex[end]));
        }
    }

    /// <summary>One BMP character standing for a supplementary code point in the shadow string.</summary>
    internal static char StandIn(int codePoint) => codePoint is >= 0x1F130 and <= 0x1F189
        ? '\u24B6' // squared and circled Latin letters: symbols that Oniguruma counts as word characters, like Ⓐ
        : StandIns[(int)CharUnicodeInfo.GetUnicodeCategory(codePoint)];

    /// <summary>
    /// Stand-ins by <see cref="UnicodeCategory"/>: rare BMP characters of that category, away from ASCII, Latin-1 and
    /// the CJK ranges patterns name, without case partners among the letters patterns match case-insensitively.
    /// Categories that have no supplementary code points (separators, controls, surrogates) map to U+FFFD, never used.
    /// </summary>
    internal static readonly char[] StandIns = BuildStandIns();

    private static char[] BuildStandIns()
    {
        var table = new char[30];
        Array.Fill(table, '\uFFFD');
        table[(int)UnicodeCategory.UppercaseLetter] = '\u10A0';        // Ⴀ Georgian capital an
        table[(int)UnicodeCategory.LowercaseLetter] = '\u1D00';        // ᴀ Latin letter small capital a (no case partner)
        table[(int)UnicodeCategory.TitlecaseLetter] = '\u1F88';        // ᾈ
        table[(int)UnicodeCategory.ModifierLetter] = '\u02B0';         // ʰ
        table[(int)UnicodeCategory.OtherLetter] = '\uA500';            // ꔀ Vai syllable ee
        table[(int)UnicodeCategory.NonSpacingMark] = '\u1DC0';         // combining dotted grave accent
        table[(int)UnicodeCategory.SpacingCombiningMark] = '\u0903';   // Devanagari sign visarga
        table[(int)UnicodeCategory.EnclosingMark] = '\u20DD';          // combining enclosing circle
        table[(int)UnicodeCategory.DecimalDigitNumber] = '\u0660';     // Arabic-Indic digit zero
        table[(int)UnicodeCategory.LetterNumber] = '\u3007';           // 〇 ideographic number zero
        table[(int)UnicodeCategory.OtherNumber] = '\u2460';            // ① circled digit one
        table[(int)UnicodeCategory.ConnectorPunctuation] = '\u203F';   // ‿ undertie
        table[(int)UnicodeCategory.DashPunctuation] = '\u2E1A';        // ⸚ hyphen with diaeresis
        table[(int)UnicodeCategory.OpenPunctuation] = '\u2045';        // ⁅
        table[(int)UnicodeCategory.ClosePunctuation] = '\u2046';       // ⁆
        table[(int)UnicodeCategory.InitialQuotePunctuation] = '\u2E02'; // ⸂
        table[(int)UnicodeCategory.FinalQuotePunctuation] = '\u2E03';  // ⸃
        table[(int)UnicodeCategory.OtherPunctuation] = '\u2E30';       // ⸰ ring point
        table[(int)UnicodeCategory.MathSymbol] = '\u2A00';             // ⨀
        table[(int)UnicodeCategory.CurrencySymbol] = '\u20A0';         // ₠
        table[(int)UnicodeCategory.ModifierSymbol] = '\u02C2';         // ˂
        table[(int)UnicodeCategory.OtherSymbol] = '\u2B00';            // ⬀
        table[(int)UnicodeCategory.Format] = '\uFFF9';                 // interlinear annotation anchor
        table[(int)UnicodeCategory.PrivateUse] = '\uE000';
        table[(int)UnicodeCategory.OtherNotAssigned] = '\u0378';       // unassigned
        return table;
    }

    /// <summary>Rewrites an Oniguruma (Ruby syntax) pattern as a .NET pattern with the same meaning.</summary>
    internal static string Translate(string pattern) => new Translator(pattern).Run();

    /// <summary>One pass over a pattern, copying what means the same in .NET and rewriting what does not.</summary>
    private sealed class Translator(string pattern)
    {
        private readonly StringBuilder _output = new(pattern.Length + 16);
        private readonly Stack<(int Start, bool IgnoreCase)> _groups = new();
        private bool _ignoreCase;
        private int _atomStart = -1; // where the last complete atom (the operand of a quantifier) begins in the output
        private int _i;

        public string Run()
        {
            while (_i < pattern.Length)
            {
                char c = pattern[_i];
                if (char.IsSurrogate(c)) throw Refuse(pattern, "it names a character outside the Basic Multilingual Plane");
                switch (c)
                {
                    case '\\':
                        _atomStart = _output.Length;
                        Escape(inClass: false);
                        break;
                    case '[':
                        _atomStart = _output.Length;
                        CharacterClass();
                        break;
                    case '(':
                        GroupOpening();
                        break;
                    case ')':
                        if (_groups.Count == 0) throw Refuse(pattern, "its parentheses do not balance");
                        (_atomStart, _ignoreCase) = _groups.Pop();
                        _output.Append(')');
                        _i++;
                        break;
                    case '*' or '+' or '?' or '{':
                        _i = TranslateQuantifier(pattern, _i, _output, _atomStart);
                        break;
                    default:
                        _atomStart = _output.Length;
                        Literal(c);
                        _i++;
                        break;
                }
            }
            if (_groups.Count > 0) throw Refuse(pattern, "its parentheses do not balance");
            return _output.ToString();
        }

        /// <summary>A literal character; case-insensitively Oniguruma folds ſ with s, which .NET does not.</summary>
        private void Literal(char c)
        {
            if (_ignoreCase && c is 'ß' or 'ẞ') throw Refuse(pattern, "Oniguruma folds ß with ss case-insensitively, which .NET does not");
            if (_ignoreCase && c is 's' or 'S' or '\u017F') _output.Append("[sS\u017F]");
            else _output.Append(c);
        }

        private void CharacterClass()
        {
            _output.Append('[');
            _i++;
            if (_i < pattern.Length && pattern[_i] == '^') { _output.Append('^'); _i++; }
            // A ']' first in a class is a literal in both syntaxes.
            if (_i < pattern.Length && pattern[_i] == ']') { _output.Append(@"\]"); _i++; }
            while (true)
            {
                if (_i >= pattern.Length) throw Refuse(pattern, "a character class is not closed");
                char c = pattern[_i];
                switch (c)
                {
                    case '\\':
                        Escape(inClass: true);
                        continue;
                    case ']':
                        _output.Append(']');
                        _i++;
                        return;
                    case >= '\uD800' and <= '\uDFFF':
                        throw Refuse(pattern, "it names a character outside the Basic Multilingual Plane");
                    case '[':
                        // Oniguruma nests classes and writes POSIX brackets ([:alpha:]) here; .NET reads a literal '['.
                        throw Refuse(pattern, "it uses a nested character class or POSIX bracket");
                    case '&' when _i + 1 < pattern.Length && pattern[_i + 1] == '&':
                        throw Refuse(pattern, "it uses a character class intersection (&&)");
                    case 's' or 'S' or '\u017F' when _ignoreCase:
                        _output.Append("sS\u017F");
                        _i++;
                        continue;
                    default:
                        _output.Append(c);
                        _i++;
                        continue;
                }
            }
        }

        private void Escape(bool inClass)
        {
            if (_i + 1 >= pattern.Length) throw Refuse(pattern, "it ends with a backslash");
            char e = pattern[_i + 1];
            _i += 2;
            switch (e)
            {
                case 'h':
                    _output.Append(inClass ? "0-9a-fA-F" : "[0-9a-fA-F]");
                    return;
                case 'H' when !inClass:
                    _output.Append("[^0-9a-fA-F]");
                    return;
                case 'w':
                    _output.Append(inClass ? WordPropertyBody : WordClass);
                    return;
                case 'W' when !inClass:
                    _output.Append("[^" + WordClassBody + "]");
                    return;
                case 'H' or 'W':
                    throw Refuse(pattern, $@"it uses \{e} inside a character class");
                case 'b' when !inClass:
                    // A word boundary by Oniguruma's word characters, not .NET's.
                    _output.Append("(?:(?<=" + WordClass + ")(?!" + WordClass + ")|(?<!" + WordClass + ")(?=" + WordClass + "))");
                    return;
                case 'B' when !inClass:
                    _output.Append("(?:(?<=" + WordClass + ")(?=" + WordClass + ")|(?<!" + WordClass + ")(?!" + WordClass + "))");
                    return;
                case 'x' when _i < pattern.Length && pattern[_i] == '{':
                {
                    int close = pattern.IndexOf('}', _i);
                    if (close < 0 || !int.TryParse(pattern.AsSpan(_i + 1, close - _i - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int codePoint))
                    {
                        throw Refuse(pattern, @"it has a malformed \x{…} escape");
                    }
                    if (codePoint > 0xFFFF) throw Refuse(pattern, "it names a character outside the Basic Multilingual Plane");
                    _output.Append(@"\u").Append(codePoint.ToString("X4", CultureInfo.InvariantCulture));
                    _i = close + 1;
                    return;
                }
                case 'p' or 'P' when _i < pattern.Length && pattern[_i] == '{':
                {
                    int close = pattern.IndexOf('}', _i);
                    if (close < 0) throw Refuse(pattern, @"it has a malformed \p{…} escape");
                    string name = pattern[(_i + 1)..close];
                    bool negated = e == 'P';
                    if (name.StartsWith('^')) { negated = !negated; name = name[1..]; }
                    _output.Append(negated ? @"\P{" : @"\p{").Append(name).Append('}');
                    _i = close + 1;
                    return;
                }
                case 'R' or 'X' or 'K' or 'g' or 'G' or 'O' or 'N' or 'y' or 'Y' or 'o':
                    throw Refuse(pattern, $@"Oniguruma's \{e} has no .NET equivalent here");
                default:
                    _output.Append('\\').Append(e);
                    return;
            }
        }

        private void GroupOpening()
        {
            int start = _output.Length;
            if (_i + 1 >= pattern.Length || pattern[_i + 1] != '?')
            {
                _groups.Push((start, _ignoreCase));
                _output.Append('(');
                _i++;
                return;
            }
            // Options: (?imx-imx) for the rest of the group, (?imx-imx:...) for a new one. Ruby's m is .NET's s.
            int j = _i + 2;
            bool on = true, ignoreCase = _ignoreCase;
            var options = new StringBuilder();
            while (j < pattern.Length && pattern[j] is 'i' or 'm' or 'x' or '-')
            {
                if (pattern[j] == '-') on = false;
                else if (pattern[j] == 'i') ignoreCase = on;
                options.Append(pattern[j] == 'm' ? 's' : pattern[j]);
                j++;
            }
            if (j > _i + 2 && j < pattern.Length && pattern[j] == ')')
            {
                _output.Append("(?").Append(options).Append(')');
                _ignoreCase = ignoreCase;
                _i = j + 1;
                return;
            }
            if (j > _i + 2 && j < pattern.Length && pattern[j] == ':')
            {
                _groups.Push((start, _ignoreCase));
                _output.Append("(?").Append(options).Append(':');
                _ignoreCase = ignoreCase;
                _i = j + 1;
                return;
            }
            string rest = pattern[(_i + 2)..];
            string? opening =
                rest.StartsWith(':') || rest.StartsWith('=') || rest.StartsWith('!') || rest.StartsWith('>') ? "(?" + rest[0]
                : rest.StartsWith("<=", StringComparison.Ordinal) || rest.StartsWith("<!", StringComparison.Ordinal) ? "(?" + rest[..2]
                : NamedGroup(rest);
            if (rest.StartsWith('#'))
            {
                int close = pattern.IndexOf(')', _i);
                if (close < 0) throw Refuse(pattern, "a comment is not closed");
                _i = close + 1; // a comment: nothing to copy
                return;
            }
            if (opening is null) throw Refuse(pattern, $"its group '(?{(rest.Length > 0 ? rest[0] : ' ')}' has no .NET equivalent");
            _groups.Push((start, _ignoreCase));
            _output.Append(opening);
            _i += opening.Length;
        }

        /// <summary>(?&lt;name&gt; or (?'name': the opening, or null.</summary>
        private static string? NamedGroup(string rest)
        {
            if (rest.Length < 3 || rest[0] is not ('<' or '\'')) return null;
            int close = rest.IndexOf(rest[0] == '<' ? '>' : '\'', 1);
            return close > 1 ? "(?" + rest[..(close + 1)] : null;
        }
    }

    private static int TranslateQuantifier(string pattern, int i, StringBuilder output, int atomStart)
    {
        if (pattern[i] != '{')
        {
            if (atomStart < 0) throw Refuse(pattern, "a quantifier has nothing to repeat");
            if (i + 1 < pattern.Length && pattern[i + 1] == '+')
            {
                // ?+ *+ ++ are possessive: an atomic group around the greedy repetition.
                output.Insert(atomStart, "(?>").Append(pattern[i]).Append(')');
                return i + 2;
            }
            output.Append(pattern[i]);
            if (i + 1 < pattern.Length && pattern[i + 1] == '?')
            {
                output.Append('?');
                return i + 2;
            }
            return i + 1;
        }
        int close = pattern.IndexOf('}', i);
        if (close < 0 || !TryParseInterval(pattern.AsSpan(i + 1, close - i - 1), out int low, out int? high, out bool exact))
        {
            output.Append(@"\{"); // not an interval: a literal brace, as Ruby reads it
            return i + 1;
        }
        if (atomStart < 0) throw Refuse(pattern, "a quantifier has nothing to repeat");
        int end = close + 1;
        if (high is int h && low > h)
        {
            // Ruby's {n,m} with n > m is possessive {m,n}.
            output.Insert(atomStart, "(?>").Append('{').Append(h).Append(',').Append(low).Append("})");
            return end;
        }
        string interval = high is null ? $"{{{low},}}" : exact ? $"{{{low}}}" : $"{{{low},{high}}}";
        bool followedBy(char c) => end < pattern.Length && pattern[end] == c;
        if (followedBy('+') || (exact && followedBy('?')))
        {
            // In Ruby syntax {n,m}+ is not possessive but the interval repeated, and {n}? is the interval made
            // optional: wrap the interval in a group the next quantifier applies to.
            output.Insert(atomStart, "(?:").Append(interval).Append(')');
            return end;
        }
        output.Append(interval);
        if (followedBy('?'))
        {
            output.Append('?');
            return end + 1;
        }
        return end;
    }

    /// <summary>Ruby's intervals: {n}, {n,}, {,m} (0 to m), {n,m}; anything else is literal text.</summary>
    private static bool TryParseInterval(ReadOnlySpan<char> body, out int low, out int? high, out bool exact)
    {
        low = 0;
        high = null;
        int comma = body.IndexOf(',');
        exact = comma < 0;
        var lowText = exact ? body : body[..comma];
        var highText = exact ? body : body[(comma + 1)..];
        if (lowText.Length == 0 && highText.Length == 0) return false;
        if (lowText.Length > 0 && !int.TryParse(lowText, NumberStyles.None, CultureInfo.InvariantCulture, out low)) return false;
        if (highText.Length > 0)
        {
            if (!int.TryParse(highText, NumberStyles.None, CultureInfo.InvariantCulture, out int parsedHigh)) return false;
            high = parsedHigh;
        }
        if (exact) high = low;
        return true;
    }

    private static UnsupportedPatternException Refuse(string pattern, string why) => new($"regex '{pattern}' is not supported: {why}");
}

/// <summary>A pattern of tokenizer.json that cannot run here with Hugging Face's meaning.</summary>
internal sealed class UnsupportedPatternException(string message) : Exception(message);
