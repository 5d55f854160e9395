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
/// <c>(?s)</c>, <c>\h</c> is a hex digit, <c>\w</c> includes every mark, <c>\x{…}</c> and possessive quantifiers
/// exist. These are translated; what has no .NET equivalent (POSIX brackets, nested classes, script properties,
/// characters outside the BMP in the pattern) is refused.</item>
/// <item>An empty match right where the previous match ended is skipped, as Oniguruma's iterator does.</item>
/// </list>
/// </summary>
internal sealed class OnigurumaRegex
{
    private const string WordClassBody = @"\p{L}\p{M}\p{Nd}\p{Pc}";

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
    internal static char StandIn(int codePoint) => StandIns[(int)CharUnicodeInfo.GetUnicodeCategory(codePoint)];

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
    internal static string Translate(string pattern)
    {
        var output = new StringBuilder(pattern.Length + 16);
        var groupStarts = new Stack<int>();
        int classDepth = 0;
        int atomStart = -1; // where the last complete atom (the operand of a quantifier) begins in the output
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (char.IsSurrogate(c)) throw Refuse(pattern, "it names a character outside the Basic Multilingual Plane");
            if (classDepth > 0)
            {
                i = TranslateInClass(pattern, i, output, ref classDepth);
                continue;
            }
            switch (c)
            {
                case '\\':
                    atomStart = output.Length;
                    i = TranslateEscape(pattern, i, output, inClass: false);
                    break;
                case '[':
                    atomStart = output.Length;
                    output.Append('[');
                    classDepth = 1;
                    i++;
                    if (i < pattern.Length && pattern[i] == '^') { output.Append('^'); i++; }
                    // A ']' first in a class is a literal in both syntaxes.
                    if (i < pattern.Length && pattern[i] == ']') { output.Append(@"\]"); i++; }
                    break;
                case '(':
                    groupStarts.Push(output.Length);
                    i = TranslateGroupOpening(pattern, i, output);
                    break;
                case ')':
                    atomStart = groupStarts.Count > 0 ? groupStarts.Pop() : throw Refuse(pattern, "its parentheses do not balance");
                    output.Append(')');
                    i++;
                    break;
                case '*' or '+' or '?' or '{':
                    i = TranslateQuantifier(pattern, i, output, atomStart);
                    break;
                default:
                    atomStart = output.Length;
                    output.Append(c);
                    i++;
                    break;
            }
        }
        if (classDepth > 0) throw Refuse(pattern, "a character class is not closed");
        return output.ToString();
    }

    private static int TranslateInClass(string pattern, int i, StringBuilder output, ref int classDepth)
    {
        char c = pattern[i];
        switch (c)
        {
            case '\\':
                return TranslateEscape(pattern, i, output, inClass: true);
            case ']':
                classDepth = 0;
                output.Append(']');
                return i + 1;
            case '[':
                // Oniguruma nests classes and writes POSIX brackets ([:alpha:]) here; .NET reads a literal '['.
                throw Refuse(pattern, "it uses a nested character class or POSIX bracket");
            case '&' when i + 1 < pattern.Length && pattern[i + 1] == '&':
                throw Refuse(pattern, "it uses a character class intersection (&&)");
            default:
                output.Append(c);
                return i + 1;
        }
    }

    private static int TranslateEscape(string pattern, int i, StringBuilder output, bool inClass)
    {
        if (i + 1 >= pattern.Length) throw Refuse(pattern, "it ends with a backslash");
        char e = pattern[i + 1];
        switch (e)
        {
            case 'h':
                output.Append(inClass ? "0-9a-fA-F" : "[0-9a-fA-F]");
                return i + 2;
            case 'H':
                if (inClass) throw Refuse(pattern, @"it uses \H inside a character class");
                output.Append("[^0-9a-fA-F]");
                return i + 2;
            case 'w':
                output.Append(inClass ? WordClassBody : "[" + WordClassBody + "]");
                return i + 2;
            case 'W':
                if (inClass) throw Refuse(pattern, @"it uses \W inside a character class");
                output.Append("[^" + WordClassBody + "]");
                return i + 2;
            case 'x' when i + 2 < pattern.Length && pattern[i + 2] == '{':
            {
                int close = pattern.IndexOf('}', i + 3);
                if (close < 0 || !int.TryParse(pattern.AsSpan(i + 3, close - i - 3), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int codePoint))
                {
                    throw Refuse(pattern, @"it has a malformed \x{…} escape");
                }
                if (codePoint > 0xFFFF) throw Refuse(pattern, "it names a character outside the Basic Multilingual Plane");
                output.Append(@"\u").Append(codePoint.ToString("X4", CultureInfo.InvariantCulture));
                return close + 1;
            }
            case 'p' or 'P' when i + 2 < pattern.Length && pattern[i + 2] == '{':
            {
                int close = pattern.IndexOf('}', i + 3);
                if (close < 0) throw Refuse(pattern, @"it has a malformed \p{…} escape");
                string name = pattern[(i + 3)..close];
                bool negated = e == 'P';
                if (name.StartsWith('^')) { negated = !negated; name = name[1..]; }
                output.Append(negated ? @"\P{" : @"\p{").Append(name).Append('}');
                return close + 1;
            }
            case 'R' or 'X' or 'K' or 'g' or 'G' or 'O' or 'N' or 'y' or 'Y' or 'o':
                throw Refuse(pattern, $@"Oniguruma's \{e} has no .NET equivalent here");
            default:
                output.Append('\\').Append(e);
                return i + 2;
        }
    }

    private static int TranslateGroupOpening(string pattern, int i, StringBuilder output)
    {
        // (?imx-imx) and (?imx-imx:...): Ruby's m is "dot matches newline", .NET's s.
        if (i + 1 < pattern.Length && pattern[i + 1] == '?')
        {
            int j = i + 2;
            while (j < pattern.Length && (pattern[j] is 'i' or 'm' or 'x' or '-')) j++;
            if (j > i + 2 && j < pattern.Length && pattern[j] is ':' or ')')
            {
                output.Append("(?").Append(pattern.AsSpan(i + 2, j - i - 2).ToString().Replace('m', 's'));
                return j;
            }
            if (i + 2 < pattern.Length && pattern[i + 2] == '~') throw Refuse(pattern, "it uses an absent operator (?~…)");
        }
        output.Append('(');
        return i + 1;
    }

    private static int TranslateQuantifier(string pattern, int i, StringBuilder output, int atomStart)
    {
        int end = i + 1;
        if (pattern[i] == '{')
        {
            int close = pattern.IndexOf('}', i);
            // Not an interval ({ as a literal): copy it as one.
            if (close < 0 || !IsInterval(pattern.AsSpan(i + 1, close - i - 1)))
            {
                output.Append(@"\{");
                return i + 1;
            }
            end = close + 1;
        }
        if (atomStart < 0) throw Refuse(pattern, "a quantifier has nothing to repeat");
        string quantifier = pattern[i..end];
        if (quantifier.StartsWith("{,", StringComparison.Ordinal)) quantifier = "{0" + quantifier[1..]; // Ruby's {,n}
        if (end < pattern.Length && pattern[end] == '+')
        {
            // Possessive: the same as an atomic group around the greedy repetition.
            output.Insert(atomStart, "(?>");
            output.Append(quantifier).Append(')');
            return end + 1;
        }
        output.Append(quantifier);
        if (end < pattern.Length && pattern[end] == '?')
        {
            output.Append('?');
            return end + 1;
        }
        return end;
    }

    private static bool IsInterval(ReadOnlySpan<char> body)
    {
        int comma = body.IndexOf(',');
        var low = comma < 0 ? body : body[..comma];
        var high = comma < 0 ? [] : body[(comma + 1)..];
        static bool Digits(ReadOnlySpan<char> s) => !s.ContainsAnyExceptInRange('0', '9');
        return (low.Length > 0 || high.Length > 0) && Digits(low) && Digits(high);
    }

    private static UnsupportedPatternException Refuse(string pattern, string why) => new($"regex '{pattern}' is not supported: {why}");
}

/// <summary>A pattern of tokenizer.json that cannot run here with Hugging Face's meaning.</summary>
internal sealed class UnsupportedPatternException(string message) : Exception(message);
