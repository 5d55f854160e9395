using System.Globalization;
using System.Numerics;
using System.Text;

namespace GenAI.Core.Tokenization.Templates;

internal enum TokenKind
{
    Data,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

/// <summary>One lexed piece of a template; <see cref="Value"/> holds the decoded literal of strings and numbers.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, object? Value, int Line)
{
    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;

    public bool IsOperator(string op) => Kind == TokenKind.Operator && Text == op;

    public string Describe() => Kind switch
    {
        TokenKind.End => "end of template",
        TokenKind.VariableEnd => "end of print statement",
        TokenKind.BlockEnd => "end of statement block",
        TokenKind.Data => "template data",
        _ => $"'{Text}'",
    };
}

/// <summary>
/// Splits template source into tokens exactly as Jinja2's lexer does with the settings transformers uses for chat
/// templates: newlines normalized to <c>\n</c> and one trailing newline dropped (keep_trailing_newline off),
/// <c>trim_blocks</c> (the newline after a block or comment tag goes), <c>lstrip_blocks</c> (spaces and tabs before a
/// block or comment tag that starts its line go), <c>-</c> and <c>+</c> whitespace control, <c>{% raw %}</c>, and
/// expressions lexed inside tags so that a <c>%}</c> or <c>}}</c> inside a string or a dict literal does not end the tag.
/// </summary>
internal static class TemplateLexer
{
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"];

    public static List<Token> Tokenize(string source)
    {
        string s = NormalizeNewlines(source);
        var tokens = new List<Token>();
        int pos = 0, line = 1;
        bool lineStarting = true;
        while (pos < s.Length)
        {
            int open = FindTagStart(s, pos);
            if (open < 0)
            {
                tokens.Add(new Token(TokenKind.Data, s[pos..], null, line));
                break;
            }
            char kind = s[open + 1];
            int after = open + 2;
            char sign = after < s.Length && s[after] is '-' or '+' ? s[after] : '\0';
            int contentStart = sign == '\0' ? after : after + 1;
            string text = ControlLeft(s[pos..open], sign, lstrip: kind != '{', lineStarting);
            if (text.Length > 0) tokens.Add(new Token(TokenKind.Data, text, null, line));
            line += Newlines(s, pos, open);
            int tagLine = line;

            if (kind == '#')
            {
                pos = SkipComment(s, contentStart, tagLine, out lineStarting);
            }
            else if (kind == '%' && MatchRawBegin(s, contentStart) is { } rawBodyStart)
            {
                pos = ReadRaw(s, rawBodyStart, tokens, tagLine, out lineStarting);
            }
            else
            {
                tokens.Add(new Token(kind == '{' ? TokenKind.VariableBegin : TokenKind.BlockBegin, s[open..contentStart], null, tagLine));
                pos = ReadTag(s, contentStart, kind == '{', tokens, ref line, out lineStarting);
                continue; // ReadTag advanced line itself
            }
            line += Newlines(s, open, pos);
        }
        tokens.Add(new Token(TokenKind.End, "", null, line));
        return tokens;
    }

    private static string NormalizeNewlines(string source)
    {
        string s = source.Contains('\r') ? source.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n') : source;
        return s.EndsWith('\n') ? s[..^1] : s;
    }

    private static int FindTagStart(string s, int from)
    {
        for (int i = s.IndexOf('{', from); i >= 0 && i < s.Length - 1; i = s.IndexOf('{', i + 1))
        {
            if (s[i + 1] is '{' or '%' or '#') return i;
        }
        return -1;
    }

    private static int Newlines(string s, int from, int to)
    {
        int n = 0;
        for (int i = from; i < to; i++)
        {
            if (s[i] == '\n') n++;
        }
        return n;
    }

    // The text before a tag: '-' strips all trailing whitespace; otherwise lstrip_blocks drops the indentation of a
    // block or comment tag that is alone at the start of its line ('+' keeps it).
    private static string ControlLeft(string text, char sign, bool lstrip, bool lineStarting)
    {
        if (sign == '-') return text.TrimEnd(PythonText.WhitespaceChars);
        if (sign == '+' || !lstrip) return text;
        int lineStart = text.LastIndexOf('\n') + 1;
        if (lineStart == 0 && !lineStarting) return text;
        if (lineStart == text.Length) return text;
        for (int i = lineStart; i < text.Length; i++)
        {
            if (!PythonText.IsSpace(text[i])) return text;
        }
        return text[..lineStart];
    }

    private static int SkipWhitespace(string s, int pos)
    {
        while (pos < s.Length && PythonText.IsSpace(s[pos])) pos++;
        return pos;
    }

    private static int SkipComment(string s, int start, int line, out bool lineStarting)
    {
        int close = s.IndexOf("#}", start, StringComparison.Ordinal);
        if (close < 0) throw new TemplateException("missing end of comment tag", line);
        int end = close + 2;
        char before = close - 1 >= start ? s[close - 1] : '\0';
        if (before == '-') end = SkipWhitespace(s, end);
        else if (before != '+' && end < s.Length && s[end] == '\n') end++;
        lineStarting = s[end - 1] == '\n';
        return end;
    }

    // {% raw %} (or {%- raw -%}): the position its body starts at, or null when the tag is not raw.
    private static int? MatchRawBegin(string s, int pos)
    {
        int p = SkipWhitespace(s, pos);
        if (string.CompareOrdinal(s, p, "raw", 0, 3) != 0) return null;
        p += 3;
        if (p < s.Length && (char.IsLetterOrDigit(s[p]) || s[p] == '_')) return null;
        p = SkipWhitespace(s, p);
        if (string.CompareOrdinal(s, p, "-%}", 0, 3) == 0) return SkipWhitespace(s, p + 3);
        if (string.CompareOrdinal(s, p, "%}", 0, 2) == 0) return p + 2;
        return null;
    }

    private static int ReadRaw(string s, int bodyStart, List<Token> tokens, int line, out bool lineStarting)
    {
        bool bodyLineStarting = s[bodyStart - 1] == '\n';
        for (int open = s.IndexOf("{%", bodyStart, StringComparison.Ordinal); open >= 0; open = s.IndexOf("{%", open + 1, StringComparison.Ordinal))
        {
            int p = open + 2;
            char sign = p < s.Length && s[p] is '-' or '+' ? s[p] : '\0';
            if (sign != '\0') p++;
            p = SkipWhitespace(s, p);
            if (string.CompareOrdinal(s, p, "endraw", 0, 6) != 0) continue;
            p = SkipWhitespace(s, p + 6);
            int end;
            if (string.CompareOrdinal(s, p, "+%}", 0, 3) == 0) end = p + 3;
            else if (string.CompareOrdinal(s, p, "-%}", 0, 3) == 0) end = SkipWhitespace(s, p + 3);
            else if (string.CompareOrdinal(s, p, "%}", 0, 2) == 0) end = p + 2 < s.Length && s[p + 2] == '\n' ? p + 3 : p + 2;
            else continue;
            string body = ControlLeft(s[bodyStart..open], sign, lstrip: true, bodyLineStarting);
            if (body.Length > 0) tokens.Add(new Token(TokenKind.Data, body, null, line));
            lineStarting = s[end - 1] == '\n';
            return end;
        }
        throw new TemplateException("missing {% endraw %}", line);
    }

    // The expression tokens of a {{ }} or {% %} tag, through its end delimiter.
    private static int ReadTag(string s, int pos, bool variable, List<Token> tokens, ref int line, out bool lineStarting)
    {
        var brackets = new Stack<char>();
        while (true)
        {
            if (pos >= s.Length) throw new TemplateException($"unexpected end of template: missing '{(variable ? "}}" : "%}")}'", line);
            if (brackets.Count == 0 && MatchTagEnd(s, pos, variable) is { } end)
            {
                tokens.Add(new Token(variable ? TokenKind.VariableEnd : TokenKind.BlockEnd, s[pos..end].TrimEnd(PythonText.WhitespaceChars), null, line));
                line += Newlines(s, pos, end);
                lineStarting = s[end - 1] == '\n';
                return end;
            }
            char c = s[pos];
            if (PythonText.IsSpace(c))
            {
                int next = SkipWhitespace(s, pos);
                line += Newlines(s, pos, next);
                pos = next;
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                pos = ReadNumber(s, pos, tokens, line);
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                int j = pos + 1;
                while (j < s.Length && (char.IsLetterOrDigit(s[j]) || s[j] == '_')) j++;
                tokens.Add(new Token(TokenKind.Name, s[pos..j], null, line));
                pos = j;
                continue;
            }
            if (c is '\'' or '"')
            {
                int startLine = line;
                int j = pos + 1;
                while (j < s.Length && s[j] != c)
                {
                    if (s[j] == '\\') j++;
                    j++;
                }
                if (j >= s.Length) throw new TemplateException("unterminated string", startLine);
                string raw = s[(pos + 1)..j];
                tokens.Add(new Token(TokenKind.String, s[pos..(j + 1)], DecodeString(raw, startLine), startLine));
                line += Newlines(s, pos, j);
                pos = j + 1;
                continue;
            }
            string? op = Operators.FirstOrDefault(o => string.CompareOrdinal(s, pos, o, 0, o.Length) == 0);
            if (op is null) throw new TemplateException($"unexpected character '{c}'", line);
            if (op is "(" or "[" or "{") brackets.Push(op switch { "(" => ')', "[" => ']', _ => '}' });
            else if (op is ")" or "]" or "}")
            {
                if (brackets.Count == 0) throw new TemplateException($"unexpected '{op}'", line);
                char expected = brackets.Pop();
                if (expected != op[0]) throw new TemplateException($"unexpected '{op}', expected '{expected}'", line);
            }
            tokens.Add(new Token(TokenKind.Operator, op, null, line));
            pos += op.Length;
        }
    }

    // The end of a tag: '-' strips the whitespace after it; a block tag without '+' also takes one newline (trim_blocks).
    private static int? MatchTagEnd(string s, int pos, bool variable)
    {
        if (variable)
        {
            if (string.CompareOrdinal(s, pos, "-}}", 0, 3) == 0) return SkipWhitespace(s, pos + 3);
            return string.CompareOrdinal(s, pos, "}}", 0, 2) == 0 ? pos + 2 : null;
        }
        if (string.CompareOrdinal(s, pos, "+%}", 0, 3) == 0) return pos + 3;
        if (string.CompareOrdinal(s, pos, "-%}", 0, 3) == 0) return SkipWhitespace(s, pos + 3);
        if (string.CompareOrdinal(s, pos, "%}", 0, 2) != 0) return null;
        return pos + 2 < s.Length && s[pos + 2] == '\n' ? pos + 3 : pos + 2;
    }

    // Jinja2's integer and float literals: digit groups may be separated by '_'; a float has a fraction, an exponent
    // or both, and never starts right after a '.' (so xs.0.1 is two subscripts).
    private static int ReadNumber(string s, int pos, List<Token> tokens, int line)
    {
        int j = DigitRun(s, pos);
        bool isFloat = false;
        if (pos == 0 || s[pos - 1] != '.')
        {
            int k = j;
            if (k + 1 < s.Length && s[k] == '.' && char.IsAsciiDigit(s[k + 1]))
            {
                k = DigitRun(s, k + 1);
                isFloat = true;
            }
            if (k < s.Length && s[k] is 'e' or 'E')
            {
                int e = k + 1;
                if (e < s.Length && s[e] is '+' or '-') e++;
                if (e < s.Length && char.IsAsciiDigit(s[e]))
                {
                    k = DigitRun(s, e);
                    isFloat = true;
                }
            }
            if (isFloat) j = k;
        }
        string text = s[pos..j];
        string digits = text.Replace("_", "", StringComparison.Ordinal);
        object value = isFloat
            ? double.Parse(digits, NumberStyles.Float, CultureInfo.InvariantCulture)
            : PyInt.Normalize(BigInteger.Parse(digits, CultureInfo.InvariantCulture));
        tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, text, value, line));
        return j;
    }

    private static int DigitRun(string s, int pos)
    {
        int j = pos;
        while (j < s.Length && char.IsAsciiDigit(s[j])) j++;
        while (j + 1 < s.Length && s[j] == '_' && char.IsAsciiDigit(s[j + 1]))
        {
            j++;
            while (j < s.Length && char.IsAsciiDigit(s[j])) j++;
        }
        return j;
    }

    // Python's unicode-escape decoding, which Jinja2 applies to string literals.
    private static string DecodeString(string raw, int line)
    {
        if (!raw.Contains('\\')) return raw;
        var b = new StringBuilder(raw.Length);
        for (int i = 0; i < raw.Length; i++)
        {
            char c = raw[i];
            if (c != '\\' || i + 1 >= raw.Length)
            {
                b.Append(c);
                continue;
            }
            char e = raw[++i];
            switch (e)
            {
                case '\n': break; // a backslash before a newline continues the line
                case '\\': b.Append('\\'); break;
                case '\'': b.Append('\''); break;
                case '"': b.Append('"'); break;
                case 'a': b.Append('\a'); break;
                case 'b': b.Append('\b'); break;
                case 'f': b.Append('\f'); break;
                case 'n': b.Append('\n'); break;
                case 'r': b.Append('\r'); break;
                case 't': b.Append('\t'); break;
                case 'v': b.Append('\v'); break;
                case 'x': b.Append(HexEscape(raw, ref i, 2, line)); break;
                case 'u': b.Append(HexEscape(raw, ref i, 4, line)); break;
                case 'U': b.Append(HexEscape(raw, ref i, 8, line)); break;
                case 'N': throw new TemplateException("unsupported string escape \\N{...}", line);
                case >= '0' and <= '7':
                {
                    int value = e - '0';
                    for (int n = 0; n < 2 && i + 1 < raw.Length && raw[i + 1] is >= '0' and <= '7'; n++) value = value * 8 + (raw[++i] - '0');
                    b.Append(char.ConvertFromUtf32(value));
                    break;
                }
                default: b.Append('\\').Append(e); break; // Python keeps unknown escapes as written
            }
        }
        return b.ToString();
    }

    private static string HexEscape(string raw, ref int i, int digits, int line)
    {
        if (i + digits >= raw.Length || !int.TryParse(raw.AsSpan(i + 1, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value)
            || value > 0x10FFFF)
        {
            throw new TemplateException($"truncated \\{raw[i]} escape in a string literal", line);
        }
        i += digits;
        return value is >= 0xD800 and <= 0xDFFF ? ((char)value).ToString() : char.ConvertFromUtf32(value);
    }
}
