using System.Globalization;
using System.Numerics;
using System.Text;

namespace GenAI.Core.Tokenization.Templates;

/// <summary>
/// Python's <c>str.format</c> (<c>'{} {name}'.format(...)</c>), a common subset of its format-spec mini-language
/// (fill, align, sign, zero padding, width, grouping, precision; types s d b o x X f F %), and printf-style
/// <c>'%s' % value</c> (the <c>format</c> filter). Anything outside the subset fails naming it.
/// </summary>
internal static class StringFormat
{
    public static string Apply(string format, Arguments args)
    {
        var b = new StringBuilder();
        int auto = 0;
        bool manual = false;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c == '}')
            {
                if (i + 1 < format.Length && format[i + 1] == '}') i++;
                else throw new TemplateException("Single '}' encountered in format string");
                b.Append('}');
                continue;
            }
            if (c != '{')
            {
                b.Append(c);
                continue;
            }
            if (i + 1 < format.Length && format[i + 1] == '{')
            {
                b.Append('{');
                i++;
                continue;
            }
            int close = format.IndexOf('}', i + 1);
            if (close < 0) throw new TemplateException("Single '{' encountered in format string");
            string field = format[(i + 1)..close];
            if (field.Contains('{')) throw new TemplateException("nested replacement fields in str.format are not supported");
            i = close;

            int colon = field.IndexOf(':');
            string spec = colon < 0 ? "" : field[(colon + 1)..];
            string reference = colon < 0 ? field : field[..colon];
            char conversion = '\0';
            int bang = reference.IndexOf('!');
            if (bang >= 0)
            {
                if (bang != reference.Length - 2) throw new TemplateException("expected ':' after conversion specifier");
                conversion = reference[^1];
                reference = reference[..bang];
            }
            int split = reference.IndexOfAny(['.', '[']);
            string head = split < 0 ? reference : reference[..split];
            object? value;
            if (head.Length == 0 || char.IsAsciiDigit(head[0]))
            {
                int index;
                if (head.Length == 0)
                {
                    if (manual) throw new TemplateException("cannot switch from manual field specification to automatic field numbering");
                    index = auto++;
                }
                else
                {
                    if (auto > 0) throw new TemplateException("cannot switch from automatic field numbering to manual field specification");
                    manual = true;
                    if (!int.TryParse(head, NumberStyles.None, CultureInfo.InvariantCulture, out index)) throw new TemplateException($"invalid format field '{head}'");
                }
                if (index >= args.Positional.Count) throw new TemplateException($"Replacement index {index} out of range for positional args tuple");
                value = args.Positional[index];
            }
            else
            {
                var match = args.Keywords.FindLast(kv => kv.Key == head);
                if (match.Key is null) throw new TemplateException($"KeyError: '{head}'");
                value = match.Value;
            }
            value = Lookup(value, split < 0 ? "" : reference[split..]);
            value = conversion switch
            {
                '\0' => value,
                's' => PythonText.Str(value),
                'r' => PythonText.Repr(value),
                _ => throw new TemplateException($"unsupported format conversion '!{conversion}'"),
            };
            string formatted = FormatSpec.Apply(value, spec);
            JinjaTemplate.CheckLength((long)b.Length + formatted.Length, "a formatted string");
            b.Append(formatted);
        }
        return b.ToString();
    }

    // ".attr" and "[key]" after a field name.
    private static object? Lookup(object? value, string path)
    {
        int i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                int end = path.IndexOfAny(['.', '['], i + 1);
                if (end < 0) end = path.Length;
                value = Values.GetAttr(value, path[(i + 1)..end]);
                i = end;
            }
            else
            {
                int end = path.IndexOf(']', i);
                if (end < 0) throw new TemplateException("Missing ']' in format string");
                string key = path[(i + 1)..end];
                value = Values.GetItem(value, key.All(char.IsAsciiDigit) && key.Length > 0 ? long.Parse(key, CultureInfo.InvariantCulture) : key);
                i = end + 1;
            }
            if (value is Undefined u) throw u.Fail();
        }
        return value;
    }
}

/// <summary>Python's <c>format(value, spec)</c> for the common part of the mini-language.</summary>
internal static class FormatSpec
{
    public static string Apply(object? value, string spec)
    {
        if (spec.Length == 0) return PythonText.Str(value);
        int i = 0;
        char fill = ' ', align = '\0', sign = '-';
        bool alternate = false, zero = false;
        if (spec.Length >= 2 && spec[1] is '<' or '>' or '^' or '=')
        {
            fill = spec[0];
            align = spec[1];
            i = 2;
        }
        else if (spec[0] is '<' or '>' or '^' or '=')
        {
            align = spec[0];
            i = 1;
        }
        if (i < spec.Length && spec[i] is '+' or '-' or ' ') sign = spec[i++];
        if (i < spec.Length && spec[i] == '#')
        {
            alternate = true;
            i++;
        }
        if (i < spec.Length && spec[i] == '0')
        {
            zero = true;
            i++;
        }
        int width = 0;
        while (i < spec.Length && char.IsAsciiDigit(spec[i])) width = Digit(width, spec[i++], "a format width");
        char grouping = i < spec.Length && spec[i] is ',' or '_' ? spec[i++] : '\0';
        int? precision = null;
        if (i < spec.Length && spec[i] == '.')
        {
            i++;
            int p = 0, start = i;
            while (i < spec.Length && char.IsAsciiDigit(spec[i])) p = Digit(p, spec[i++], "a format precision");
            if (i == start) throw new TemplateException("Format specifier missing precision");
            precision = p;
        }
        char type = i < spec.Length ? spec[i++] : '\0';
        if (i != spec.Length) throw new TemplateException($"Invalid format specifier '{spec}'");
        if (zero && align == '\0')
        {
            fill = '0';
            align = '=';
        }

        string body;
        string signText = "";
        switch (value)
        {
            case string s:
                if (type is not ('\0' or 's')) throw new TemplateException($"Unknown format code '{type}' for object of type 'str'");
                if (sign != '-' || alternate || grouping != '\0') throw new TemplateException("Sign, '#' and grouping are not allowed in string format specifier");
                body = precision is { } p1 && PythonText.Length(s) > p1 ? PythonText.FromCodePoints(PythonText.CodePoints(s).Take(p1)) : s;
                return Align(body, "", width, fill, align == '\0' ? '<' : align);
            case bool or long or BigInteger when type is '\0' or 'd' or 'b' or 'o' or 'x' or 'X':
            {
                if (precision is not null) throw new TemplateException("Precision not allowed in integer format specifier");
                if (value is bool && type == '\0') return Align(PythonText.Str(value), "", width, fill, align == '\0' ? '<' : align);
                BigInteger n = value switch { bool v => v ? 1 : 0, long v => v, _ => (BigInteger)value };
                signText = n.Sign < 0 ? "-" : sign == '+' ? "+" : sign == ' ' ? " " : "";
                body = Integer(BigInteger.Abs(n), type, alternate, grouping);
                break;
            }
            case bool or long or BigInteger or double when type is 'f' or 'F' or '%' || (type == '\0' && value is double):
            {
                double d = Values.ToDouble(value);
                if (type == '\0' && precision is not null) throw new TemplateException("float format without a type but with a precision is not supported");
                if (type == '%') d *= 100;
                signText = double.IsNegative(d) ? "-" : sign == '+' ? "+" : sign == ' ' ? " " : "";
                body = type == '\0' ? PythonText.FloatRepr(Math.Abs(d)) : Fixed(Math.Abs(d), precision ?? 6, upper: type == 'F');
                if (grouping != '\0') body = Group(body, grouping);
                if (type == '%') body += "%";
                break;
            }
            default:
                throw new TemplateException($"unsupported format code '{(type == '\0' ? "" : type.ToString())}' for object of type '{Values.TypeName(value)}'");
        }
        return Align(body, signText, width, fill, align == '\0' ? '>' : align);
    }

    private static string Align(string body, string sign, int width, char fill, char align)
    {
        int margin = width - PythonText.Length(body) - sign.Length;
        if (margin <= 0) return sign + body;
        string pad(int n) => new(fill, n);
        return align switch
        {
            '<' => sign + body + pad(margin),
            '^' => pad(margin / 2) + sign + body + pad(margin - margin / 2),
            '=' => sign + pad(margin) + body,
            _ => pad(margin) + sign + body,
        };
    }

    public static string Integer(BigInteger n, char type, bool alternate, char grouping)
    {
        string digits = type switch
        {
            'b' => ToBase(n, 2),
            'o' => ToBase(n, 8),
            'x' => ToBase(n, 16),
            'X' => ToBase(n, 16).ToUpperInvariant(),
            _ => n.ToString(CultureInfo.InvariantCulture),
        };
        if (grouping != '\0') digits = Group(digits, grouping);
        return alternate && type is 'b' or 'o' or 'x' or 'X' ? "0" + type + digits : digits;
    }

    private static string ToBase(BigInteger n, int radix)
    {
        if (n.IsZero) return "0";
        var b = new StringBuilder();
        while (!n.IsZero)
        {
            b.Insert(0, "0123456789abcdef"[(int)(n % radix)]);
            n /= radix;
        }
        return b.ToString();
    }

    private static string Group(string number, char separator)
    {
        int dot = number.IndexOf('.');
        string whole = dot < 0 ? number : number[..dot];
        var b = new StringBuilder();
        for (int i = 0; i < whole.Length; i++)
        {
            if (i > 0 && (whole.Length - i) % 3 == 0) b.Append(separator);
            b.Append(whole[i]);
        }
        return b.Append(dot < 0 ? "" : number[dot..]).ToString();
    }

    /// <summary>
    /// <paramref name="value"/> (not negative) with <paramref name="precision"/> decimals, correctly rounded from its
    /// exact binary value with ties to even, as Python's '%.Nf' formats (so 2.675 gives "2.67").
    /// </summary>
    public static string Fixed(double value, int precision, bool upper = false)
    {
        if (double.IsNaN(value)) return upper ? "NAN" : "nan";
        if (double.IsInfinity(value)) return upper ? "INF" : "inf";
        // A double's exact decimal expansion ends within 1074 decimals: the ones after are zeros, written, not computed.
        JinjaTemplate.CheckLength(precision, "a float precision");
        int zeros = Math.Max(0, precision - ExactDecimals);
        precision -= zeros;
        long bits = BitConverter.DoubleToInt64Bits(value);
        int exponent = (int)((bits >> 52) & 0x7FF);
        BigInteger mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent = 1;
        else mantissa |= 1L << 52;
        exponent -= 1075; // value = mantissa * 2^exponent
        BigInteger scaled = mantissa * BigInteger.Pow(10, precision);
        BigInteger digits;
        if (exponent >= 0)
        {
            digits = scaled << exponent;
        }
        else
        {
            BigInteger denominator = BigInteger.One << -exponent;
            digits = BigInteger.DivRem(scaled, denominator, out var remainder);
            int half = (remainder * 2).CompareTo(denominator);
            if (half > 0 || (half == 0 && !digits.IsEven)) digits += 1;
        }
        string text = digits.ToString(CultureInfo.InvariantCulture).PadLeft(precision + 1, '0');
        return precision == 0 ? text : text[..^precision] + "." + text[^precision..] + new string('0', zeros);
    }

    /// <summary>The most decimals a double's exact value has (the smallest subnormal, 2^-1074, has 1074).</summary>
    private const int ExactDecimals = 1074;

    /// <summary>The number <paramref name="value"/> written with one more decimal digit, within the template's length limit.</summary>
    public static int Digit(int value, char digit, string what)
    {
        long next = value * 10L + (digit - '0');
        JinjaTemplate.CheckLength(next, what);
        return (int)next;
    }
}

/// <summary>Python's printf-style <c>format % values</c>: flags, width, precision; conversions s r d i u f F x X o c %.</summary>
internal static class PercentFormat
{
    public static string Apply(string format, object? values)
    {
        var positional = values is PyTuple t ? t.ToList() : [values];
        var mapping = values as IDictionary<string, object?>;
        int next = 0;
        var b = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%')
            {
                b.Append(format[i]);
                continue;
            }
            if (++i >= format.Length) throw new TemplateException("incomplete format");
            object? value = null;
            bool named = false;
            if (format[i] == '(')
            {
                int close = format.IndexOf(')', i);
                if (close < 0 || mapping is null) throw new TemplateException("format requires a mapping");
                string key = format[(i + 1)..close];
                if (!mapping.TryGetValue(key, out value)) throw new TemplateException($"KeyError: '{key}'");
                named = true;
                i = close + 1;
            }
            bool left = false, zero = false, alternate = false;
            char sign = '\0';
            for (; i < format.Length && format[i] is '-' or '0' or '+' or ' ' or '#'; i++)
            {
                switch (format[i])
                {
                    case '-': left = true; break;
                    case '0': zero = true; break;
                    case '#': alternate = true; break;
                    default: sign = sign == '+' ? '+' : format[i]; break;
                }
            }
            int width = 0;
            while (i < format.Length && char.IsAsciiDigit(format[i])) width = FormatSpec.Digit(width, format[i++], "a format width");
            int? precision = null;
            if (i < format.Length && format[i] == '.')
            {
                int p = 0;
                for (i++; i < format.Length && char.IsAsciiDigit(format[i]); i++) p = FormatSpec.Digit(p, format[i], "a format precision");
                precision = p;
            }
            while (i < format.Length && format[i] is 'h' or 'l' or 'L') i++;
            if (i >= format.Length) throw new TemplateException("incomplete format");
            char type = format[i];
            if (type == '%')
            {
                b.Append('%');
                continue;
            }
            if (!named)
            {
                if (next >= positional.Count) throw new TemplateException("not enough arguments for format string");
                value = positional[next++];
            }
            string signText = "";
            string body;
            switch (type)
            {
                case 's' or 'r':
                    body = type == 's' ? PythonText.Str(value) : PythonText.Repr(value);
                    if (precision is { } p && PythonText.Length(body) > p) body = PythonText.FromCodePoints(PythonText.CodePoints(body).Take(p));
                    zero = false;
                    break;
                case 'c':
                    body = value is string c && PythonText.Length(c) == 1 ? c
                        : value is long code && code is >= 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF) ? char.ConvertFromUtf32((int)code)
                        : throw new TemplateException("%c requires an int in range or a single character");
                    zero = false;
                    break;
                case 'd' or 'i' or 'u' or 'x' or 'X' or 'o':
                {
                    if (!Values.IsNumber(value)) throw new TemplateException($"%{type} format: a real number is required, not {Values.TypeName(value)}");
                    BigInteger n = value is double d ? new BigInteger(Math.Truncate(d)) : Values.IsInteger(value) && value is BigInteger big ? big
                        : Values.ToLong(value, "value");
                    signText = n.Sign < 0 ? "-" : sign == '+' ? "+" : sign == ' ' ? " " : "";
                    body = FormatSpec.Integer(BigInteger.Abs(n), type is 'x' or 'X' or 'o' ? type : 'd', false, '\0');
                    if (alternate && type is 'x' or 'X' or 'o') body = "0" + type + body;
                    if (precision is { } digits && body.Length < digits) body = body.PadLeft(digits, '0');
                    break;
                }
                case 'f' or 'F':
                {
                    if (!Values.IsNumber(value)) throw new TemplateException($"must be real number, not {Values.TypeName(value)}");
                    double d = Values.ToDouble(value);
                    signText = double.IsNegative(d) ? "-" : sign == '+' ? "+" : sign == ' ' ? " " : "";
                    body = FormatSpec.Fixed(Math.Abs(d), precision ?? 6, type == 'F');
                    break;
                }
                default:
                    throw new TemplateException($"unsupported format character '{type}'");
            }
            int margin = width - PythonText.Length(body) - signText.Length;
            JinjaTemplate.CheckLength((long)b.Length + Math.Max(0, margin) + body.Length + signText.Length, "a formatted string");
            if (margin <= 0) b.Append(signText).Append(body);
            else if (left) b.Append(signText).Append(body).Append(' ', margin);
            else if (zero) b.Append(signText).Append('0', margin).Append(body);
            else b.Append(' ', margin).Append(signText).Append(body);
        }
        if (!ReferenceEquals(values, mapping) && next < positional.Count) throw new TemplateException("not all arguments converted during string formatting");
        return b.ToString();
    }
}
