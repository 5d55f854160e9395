using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace GenAI.Core.Tokenization.Templates;

/// <summary>
/// Text as Python writes it, for output that must match transformers character for character: <c>str()</c> and
/// <c>repr()</c> of every template value, float repr, <c>json.dumps</c>, code-point string indexing, case mapping,
/// <c>splitlines</c> and <c>strftime</c> in the C locale.
/// </summary>
internal static class PythonText
{
    /// <summary>The characters Python's <c>str.isspace()</c> accepts (all in the BMP).</summary>
    public static readonly char[] WhitespaceChars =
    [
        '\t', '\n', '\v', '\f', '\r', '\x1c', '\x1d', '\x1e', '\x1f', ' ', '\x85', '\xa0', '\u1680', '\u2000', '\u2001', '\u2002',
        '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000',
    ];

    private static readonly SearchValues<char> Whitespace = SearchValues.Create(WhitespaceChars);

    public static bool IsSpace(char c) => Whitespace.Contains(c);

    // ---- str() and repr() ----

    /// <summary>Python's <c>str(value)</c>, which is what <c>{{ value }}</c> prints.</summary>
    public static string Str(object? value) => value switch
    {
        string s => s,
        Markup m => m.Text,
        Undefined => "",
        _ => Repr(value),
    };

    /// <summary>Python's <c>repr(value)</c>, which is how values print inside lists and dicts.</summary>
    public static string Repr(object? value)
    {
        var b = new StringBuilder();
        WriteRepr(b, value);
        return b.ToString();
    }

    private static void WriteRepr(StringBuilder b, object? value)
    {
        using var nesting = NestingGuard.Enter();
        switch (value)
        {
            case null: b.Append("None"); break;
            case bool v: b.Append(v ? "True" : "False"); break;
            case long v: b.Append(v.ToString(CultureInfo.InvariantCulture)); break;
            case BigInteger v: b.Append(v.ToString(CultureInfo.InvariantCulture)); break;
            case double v: b.Append(FloatRepr(v)); break;
            case string v: WriteStringRepr(b, v); break;
            case Undefined: b.Append("Undefined"); break;
            case Markup v:
                b.Append("Markup(");
                WriteStringRepr(b, v.Text);
                b.Append(')');
                break;
            case DictView v:
                b.Append(v.Kind).Append('(');
                WriteSequence(b, v, '[', ']');
                b.Append(')');
                break;
            case RangeValue v: b.Append(v.Describe()); break;
            case PyTuple v:
                if (v.Count == 1)
                {
                    b.Append('(');
                    WriteRepr(b, v[0]);
                    b.Append(",)");
                }
                else
                {
                    WriteSequence(b, v, '(', ')');
                }
                break;
            case IList<object?> v: WriteSequence(b, v, '[', ']'); break;
            case IDictionary<string, object?> v: WriteMapping(b, v); break;
            case Namespace v:
                b.Append("<Namespace ");
                WriteMapping(b, v.Attributes);
                b.Append('>');
                break;
            case LoopContext v: b.Append("<LoopContext ").Append(v.Index0 + 1).Append('/').Append(v.Length).Append('>'); break;
            case Generator v: throw new TemplateException($"cannot print a {v.Kind} (Python would print its memory address); convert it with |list first");
            case Callable v: throw new TemplateException($"cannot print the function '{v.Name}' (Python would print its memory address); call it");
            default: throw new TemplateException($"cannot print a value of type {value.GetType().Name}");
        }
    }

    private static void WriteSequence(StringBuilder b, IEnumerable<object?> items, char open, char close)
    {
        b.Append(open);
        bool first = true;
        foreach (var item in items)
        {
            if (!first) b.Append(", ");
            first = false;
            WriteRepr(b, item);
        }
        b.Append(close);
    }

    private static void WriteMapping(StringBuilder b, IEnumerable<KeyValuePair<string, object?>> entries)
    {
        b.Append('{');
        bool first = true;
        foreach (var (key, item) in entries)
        {
            if (!first) b.Append(", ");
            first = false;
            WriteStringRepr(b, key);
            b.Append(": ");
            WriteRepr(b, item);
        }
        b.Append('}');
    }

    // Python's string repr: single quotes unless the text has a single quote and no double quote; printable
    // non-ASCII characters as themselves, the rest escaped.
    private static void WriteStringRepr(StringBuilder b, string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        b.Append(quote);
        foreach (int cp in CodePoints(s))
        {
            if (cp == quote || cp == '\\') b.Append('\\').Append((char)cp);
            else if (cp == '\t') b.Append("\\t");
            else if (cp == '\n') b.Append("\\n");
            else if (cp == '\r') b.Append("\\r");
            else if (cp < 0x20 || cp == 0x7f) b.Append("\\x").Append(cp.ToString("x2", CultureInfo.InvariantCulture));
            else if (cp < 0x7f || IsPrintable(cp)) AppendCodePoint(b, cp);
            else if (cp <= 0xff) b.Append("\\x").Append(cp.ToString("x2", CultureInfo.InvariantCulture));
            else if (cp <= 0xffff) b.Append("\\u").Append(cp.ToString("x4", CultureInfo.InvariantCulture));
            else b.Append("\\U").Append(cp.ToString("x8", CultureInfo.InvariantCulture));
        }
        b.Append(quote);
    }

    private static bool IsPrintable(int cp) => CharUnicodeInfo.GetUnicodeCategory(cp) switch
    {
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.SpaceSeparator => false,
        _ => true,
    };

    /// <summary>
    /// Python's float repr: the shortest digits that read back to the same double, in fixed notation between 1e-4
    /// and 1e16 (always with a fraction, "2.0"), otherwise as "1e+16", "2.5e-07".
    /// </summary>
    public static string FloatRepr(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        if (value == 0) return double.IsNegative(value) ? "-0.0" : "0.0";
        string r = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOfAny(['E', 'e']);
        string mantissa = e < 0 ? r : r[..e];
        int exponent = e < 0 ? 0 : int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int dot = mantissa.IndexOf('.');
        string digits = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        int point = (dot < 0 ? mantissa.Length : dot) + exponent; // value = 0.digits x 10^point
        int leading = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        point -= leading;
        var b = new StringBuilder();
        if (value < 0) b.Append('-');
        if (point > -4 && point <= 16)
        {
            if (point <= 0) b.Append("0.").Append('0', -point).Append(digits);
            else if (point >= digits.Length) b.Append(digits).Append('0', point - digits.Length).Append(".0");
            else b.Append(digits, 0, point).Append('.').Append(digits, point, digits.Length - point);
        }
        else
        {
            b.Append(digits[0]);
            if (digits.Length > 1) b.Append('.').Append(digits, 1, digits.Length - 1);
            int exp = point - 1;
            b.Append('e').Append(exp < 0 ? '-' : '+').Append(Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture));
        }
        return b.ToString();
    }

    // ---- json.dumps ----

    /// <summary>
    /// Python's <c>json.dumps(value, ensure_ascii=..., indent=..., separators=..., sort_keys=...)</c>: the filter
    /// transformers installs as <c>tojson</c>. <paramref name="indent"/> null is one line; separators default as
    /// Python defaults them (", " and ": " on one line, "," and ": " when indenting).
    /// </summary>
    public static string Json(object? value, bool ensureAscii = false, string? indent = null, string? itemSeparator = null,
        string? keySeparator = null, bool sortKeys = false)
    {
        var b = new StringBuilder();
        var options = new JsonStyle(ensureAscii, indent, itemSeparator ?? (indent is null ? ", " : ","), keySeparator ?? ": ", sortKeys);
        WriteJson(b, value, options, 0);
        return b.ToString();
    }

    private sealed record JsonStyle(bool EnsureAscii, string? Indent, string ItemSeparator, string KeySeparator, bool SortKeys);

    private static void WriteJson(StringBuilder b, object? value, JsonStyle style, int level)
    {
        using var nesting = NestingGuard.Enter();
        switch (value)
        {
            case null: b.Append("null"); break;
            case bool v: b.Append(v ? "true" : "false"); break;
            case long v: b.Append(v.ToString(CultureInfo.InvariantCulture)); break;
            case BigInteger v: b.Append(v.ToString(CultureInfo.InvariantCulture)); break;
            case double v:
                b.Append(double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "Infinity" : double.IsNegativeInfinity(v) ? "-Infinity" : FloatRepr(v));
                break;
            case string v: WriteJsonString(b, v, style.EnsureAscii); break;
            case Markup v: WriteJsonString(b, v.Text, style.EnsureAscii); break;
            case List<object?> or PyTuple:
            {
                var items = (IList<object?>)value;
                if (items.Count == 0)
                {
                    b.Append("[]");
                    break;
                }
                b.Append('[');
                for (int i = 0; i < items.Count; i++)
                {
                    if (i > 0) b.Append(style.ItemSeparator);
                    NewLine(b, style, level + 1);
                    WriteJson(b, items[i], style, level + 1);
                }
                NewLine(b, style, level);
                b.Append(']');
                break;
            }
            case IDictionary<string, object?> v:
            {
                if (v.Count == 0)
                {
                    b.Append("{}");
                    break;
                }
                IEnumerable<KeyValuePair<string, object?>> entries = style.SortKeys ? v.OrderBy(kv => kv.Key, CodePointComparer.Instance) : v;
                b.Append('{');
                bool first = true;
                foreach (var (key, item) in entries)
                {
                    if (!first) b.Append(style.ItemSeparator);
                    first = false;
                    NewLine(b, style, level + 1);
                    WriteJsonString(b, key, style.EnsureAscii);
                    b.Append(style.KeySeparator);
                    WriteJson(b, item, style, level + 1);
                }
                NewLine(b, style, level);
                b.Append('}');
                break;
            }
            default:
                throw new TemplateException($"Object of type {Values.TypeName(value)} is not JSON serializable");
        }
    }

    private static void NewLine(StringBuilder b, JsonStyle style, int level)
    {
        if (style.Indent is null) return;
        JinjaTemplate.CheckLength(b.Length + 1L + (long)level * style.Indent.Length, "tojson's text");
        b.Append('\n');
        for (int i = 0; i < level; i++) b.Append(style.Indent);
    }

    private static void WriteJsonString(StringBuilder b, string s, bool ensureAscii)
    {
        b.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': b.Append("\\\""); break;
                case '\\': b.Append("\\\\"); break;
                case '\n': b.Append("\\n"); break;
                case '\r': b.Append("\\r"); break;
                case '\t': b.Append("\\t"); break;
                case '\b': b.Append("\\b"); break;
                case '\f': b.Append("\\f"); break;
                default:
                    // ensure_ascii escapes everything outside printable ASCII, as UTF-16 units (surrogate pairs for astral).
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) b.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else b.Append(c);
                    break;
            }
        }
        b.Append('"');
    }

    // ---- code points ----

    /// <summary>Whether <paramref name="s"/> has characters outside the BMP (then Python's indexes differ from UTF-16's).</summary>
    public static bool HasSurrogates(string s)
    {
        foreach (char c in s)
        {
            if (char.IsSurrogate(c)) return true;
        }
        return false;
    }

    /// <summary>The code points of <paramref name="s"/> (a lone surrogate counts as itself, as in Python).</summary>
    public static int[] CodePoints(string s)
    {
        var points = new List<int>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                points.Add(char.ConvertToUtf32(c, s[i + 1]));
                i++;
            }
            else
            {
                points.Add(c);
            }
        }
        return points.ToArray();
    }

    public static string FromCodePoints(IEnumerable<int> points)
    {
        var b = new StringBuilder();
        foreach (int cp in points) AppendCodePoint(b, cp);
        return b.ToString();
    }

    private static void AppendCodePoint(StringBuilder b, int cp)
    {
        if (cp <= 0xffff) b.Append((char)cp);
        else b.Append(char.ConvertFromUtf32(cp));
    }

    /// <summary>Python's <c>len(s)</c>: code points.</summary>
    public static int Length(string s) => HasSurrogates(s) ? CodePoints(s).Length : s.Length;

    /// <summary>Orders strings as Python does: by code point.</summary>
    public sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            if (x is null || y is null) return string.CompareOrdinal(x, y);
            if (!HasSurrogates(x) && !HasSurrogates(y)) return string.CompareOrdinal(x, y);
            var a = CodePoints(x);
            var b = CodePoints(y);
            for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                if (a[i] != b[i]) return a[i].CompareTo(b[i]);
            }
            return a.Length.CompareTo(b.Length);
        }
    }

    // ---- case and lines ----

    /// <summary>Python's <c>str.upper()</c>, with the one-to-many mappings that occur in practice (ß, ligatures).</summary>
    public static string Upper(string s)
    {
        string upper = s.ToUpperInvariant();
        if (!upper.Any(c => c is 'ß' || c is >= '\ufb00' and <= '\ufb06')) return upper;
        var b = new StringBuilder(upper.Length + 4);
        foreach (char c in upper)
        {
            b.Append(c switch
            {
                'ß' => "SS",
                '\ufb00' => "FF",
                '\ufb01' => "FI",
                '\ufb02' => "FL",
                '\ufb03' => "FFI",
                '\ufb04' => "FFL",
                '\ufb05' or '\ufb06' => "ST",
                _ => c.ToString(),
            });
        }
        return b.ToString();
    }

    /// <summary>Python's <c>str.lower()</c>, including the final sigma.</summary>
    public static string Lower(string s)
    {
        string lower = s.ToLowerInvariant();
        if (!s.Contains('Σ')) return lower;
        var chars = lower.ToCharArray();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == 'Σ' && i > 0 && char.IsLetter(s[i - 1]) && (i + 1 == s.Length || !char.IsLetter(s[i + 1]))) chars[i] = 'ς';
        }
        return new string(chars);
    }

    private static bool IsCased(char c) => char.IsUpper(c) || char.IsLower(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.TitlecaseLetter;

    /// <summary>Python's <c>str.title()</c>: a cased character after an uncased one is upper-cased ("They'Re").</summary>
    public static string Title(string s)
    {
        var b = new StringBuilder(s.Length);
        bool previousCased = false;
        foreach (char c in s)
        {
            b.Append(previousCased ? Lower(c.ToString()) : Upper(c.ToString()));
            previousCased = IsCased(c);
        }
        return b.ToString();
    }

    /// <summary>Python's <c>str.capitalize()</c>: the first character upper-cased, the rest lower-cased.</summary>
    public static string Capitalize(string s)
    {
        if (s.Length == 0) return s;
        int first = char.IsHighSurrogate(s[0]) && s.Length > 1 ? 2 : 1;
        return Upper(s[..first]) + Lower(s[first..]);
    }

    private static bool IsLineBreak(char c) => c is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029';

    /// <summary>Python's <c>str.splitlines(keepends)</c>.</summary>
    public static List<string> SplitLines(string s, bool keepEnds = false)
    {
        var lines = new List<string>();
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (!IsLineBreak(s[i])) continue;
            int end = s[i] == '\r' && i + 1 < s.Length && s[i + 1] == '\n' ? i + 2 : i + 1;
            lines.Add(keepEnds ? s[start..end] : s[start..i]);
            start = end;
            i = end - 1;
        }
        if (start < s.Length) lines.Add(s[start..]);
        return lines;
    }

    // ---- strftime ----

    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    private static readonly string[] Months =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    /// <summary>
    /// Python's <c>datetime.strftime</c> for a naive local time, in the C locale (as in the servers transformers runs
    /// on), including glibc's <c>-</c> (no padding) and <c>_</c> (space padding) flags.
    /// </summary>
    public static string Strftime(DateTime t, string format)
    {
        var b = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                b.Append(format[i]);
                continue;
            }
            char flag = format[i + 1] is '-' or '_' or '0' ? format[++i] : '\0';
            if (i + 1 >= format.Length) throw new TemplateException($"unsupported strftime format '{format}'");
            char code = format[++i];
            string Num(int value, int width) => flag switch
            {
                '-' => value.ToString(CultureInfo.InvariantCulture),
                '_' => value.ToString(CultureInfo.InvariantCulture).PadLeft(width),
                _ => value.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0'),
            };
            int hour12 = t.Hour % 12 == 0 ? 12 : t.Hour % 12;
            b.Append(code switch
            {
                'a' => Days[(int)t.DayOfWeek][..3],
                'A' => Days[(int)t.DayOfWeek],
                'b' or 'h' => Months[t.Month - 1][..3],
                'B' => Months[t.Month - 1],
                'c' => $"{Days[(int)t.DayOfWeek][..3]} {Months[t.Month - 1][..3]} {t.Day,2} {t:HH:mm:ss} {t.Year}",
                'C' => Num(t.Year / 100, 2),
                'd' => Num(t.Day, 2),
                'D' or 'x' => $"{t.Month:00}/{t.Day:00}/{t.Year % 100:00}",
                'e' => flag == '\0' ? t.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2) : Num(t.Day, 2),
                'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", CultureInfo.InvariantCulture),
                'F' => $"{t.Year:0000}-{t.Month:00}-{t.Day:00}",
                'H' => Num(t.Hour, 2),
                'I' => Num(hour12, 2),
                'j' => Num(t.DayOfYear, 3),
                'm' => Num(t.Month, 2),
                'M' => Num(t.Minute, 2),
                'n' => "\n",
                'p' => t.Hour < 12 ? "AM" : "PM",
                'r' => $"{hour12:00}:{t.Minute:00}:{t.Second:00} {(t.Hour < 12 ? "AM" : "PM")}",
                'R' => $"{t.Hour:00}:{t.Minute:00}",
                'S' => Num(t.Second, 2),
                't' => "\t",
                'T' or 'X' => $"{t.Hour:00}:{t.Minute:00}:{t.Second:00}",
                'u' => (t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek).ToString(CultureInfo.InvariantCulture),
                'w' => ((int)t.DayOfWeek).ToString(CultureInfo.InvariantCulture),
                'y' => Num(t.Year % 100, 2),
                'Y' => t.Year.ToString(CultureInfo.InvariantCulture),
                'z' or 'Z' => "", // a naive datetime has no zone
                'U' => Num((t.DayOfYear + 6 - (int)t.DayOfWeek) / 7, 2),
                'W' => Num((t.DayOfYear + 6 - ((int)t.DayOfWeek + 6) % 7) / 7, 2),
                'G' => ISOWeek.GetYear(t).ToString(CultureInfo.InvariantCulture),
                'V' => Num(ISOWeek.GetWeekOfYear(t), 2),
                '%' => "%",
                _ => throw new TemplateException($"unsupported strftime directive '%{code}'"),
            });
        }
        return b.ToString();
    }
}
