using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GenAI.Core.Tokenization.Templates;

/// <summary>A compiled template expression.</summary>
internal sealed class Expression(Func<Dictionary<string, object?>, object?> evaluate)
{
    public object? Evaluate(Dictionary<string, object?> scope) => evaluate(scope);
}

/// <summary>Parses Jinja expressions into <see cref="Expression"/>s (precedence as Jinja's).</summary>
internal sealed class ExpressionParser
{
    private readonly List<string> _tokens;
    private int _position;

    private ExpressionParser(List<string> tokens) => _tokens = tokens;

    public static Expression Parse(string text)
    {
        var parser = new ExpressionParser(Tokenize(text));
        var expression = parser.Conditional();
        if (parser._position < parser._tokens.Count) throw new TemplateException($"unexpected '{parser._tokens[parser._position]}' in '{text}'");
        return expression;
    }

    private string? Peek(int ahead = 0) => _position + ahead < _tokens.Count ? _tokens[_position + ahead] : null;

    private bool Accept(string token)
    {
        if (Peek() != token) return false;
        _position++;
        return true;
    }

    private void Expect(string token)
    {
        if (!Accept(token)) throw new TemplateException($"expected '{token}' but found '{Peek() ?? "end"}'");
    }

    private Expression Conditional()
    {
        var value = Or();
        if (!Accept("if")) return value;
        var condition = Or();
        var otherwise = Accept("else") ? Conditional() : new Expression(_ => null);
        return new Expression(s => Values.Truthy(condition.Evaluate(s)) ? value.Evaluate(s) : otherwise.Evaluate(s));
    }

    private Expression Or()
    {
        var left = And();
        while (Accept("or"))
        {
            var l = left;
            var r = And();
            left = new Expression(s => l.Evaluate(s) is var v && Values.Truthy(v) ? v : r.Evaluate(s));
        }
        return left;
    }

    private Expression And()
    {
        var left = Not();
        while (Accept("and"))
        {
            var l = left;
            var r = Not();
            left = new Expression(s => l.Evaluate(s) is var v && !Values.Truthy(v) ? v : r.Evaluate(s));
        }
        return left;
    }

    private Expression Not()
    {
        if (Accept("not"))
        {
            var inner = Not();
            return new Expression(s => !Values.Truthy(inner.Evaluate(s)));
        }
        return Comparison();
    }

    private Expression Comparison()
    {
        var left = Concat();
        while (true)
        {
            string? op = Peek();
            if (op == "is")
            {
                _position++;
                bool negate = Accept("not");
                string test = _tokens[_position++];
                var l = left;
                left = new Expression(s => Values.Test(test, l.Evaluate(s), s, l) != negate);
                continue;
            }
            if (op == "not" && Peek(1) == "in")
            {
                _position += 2;
                var (l, r) = (left, Concat());
                left = new Expression(s => !Values.Contains(r.Evaluate(s), l.Evaluate(s)));
                continue;
            }
            if (op is not ("==" or "!=" or "<" or ">" or "<=" or ">=" or "in")) return left;
            _position++;
            var (a, b) = (left, Concat());
            left = op switch
            {
                "==" => new Expression(s => Values.Equal(a.Evaluate(s), b.Evaluate(s))),
                "!=" => new Expression(s => !Values.Equal(a.Evaluate(s), b.Evaluate(s))),
                "in" => new Expression(s => Values.Contains(b.Evaluate(s), a.Evaluate(s))),
                _ => new Expression(s => Values.Compare(op, a.Evaluate(s), b.Evaluate(s))),
            };
        }
    }

    private Expression Concat()
    {
        var left = Additive();
        while (Accept("~"))
        {
            var (l, r) = (left, Additive());
            left = new Expression(s => Values.ToText(l.Evaluate(s)) + Values.ToText(r.Evaluate(s)));
        }
        return left;
    }

    private Expression Additive()
    {
        var left = Multiplicative();
        while (Peek() is "+" or "-")
        {
            string op = _tokens[_position++];
            var (l, r) = (left, Multiplicative());
            left = new Expression(s => Values.Arithmetic(op, l.Evaluate(s), r.Evaluate(s)));
        }
        return left;
    }

    private Expression Multiplicative()
    {
        var left = Unary();
        while (Peek() is "*" or "/" or "%" or "//")
        {
            string op = _tokens[_position++];
            var (l, r) = (left, Unary());
            left = new Expression(s => Values.Arithmetic(op, l.Evaluate(s), r.Evaluate(s)));
        }
        return left;
    }

    private Expression Unary()
    {
        if (Accept("-"))
        {
            var inner = Unary();
            return new Expression(s => Values.Arithmetic("-", 0L, inner.Evaluate(s)));
        }
        return Postfix(Primary());
    }

    private Expression Postfix(Expression target)
    {
        while (true)
        {
            if (Accept("."))
            {
                string name = _tokens[_position++];
                var t = target;
                if (Peek() == "(")
                {
                    var args = Arguments();
                    target = new Expression(s => Values.CallMethod(t.Evaluate(s), name, args.Select(a => a.Evaluate(s)).ToList()));
                }
                else
                {
                    target = new Expression(s => Values.Member(t.Evaluate(s), name));
                }
            }
            else if (Accept("["))
            {
                var t = target;
                Expression? start = Peek() == ":" ? null : Conditional();
                if (Accept(":"))
                {
                    Expression? stop = Peek() == "]" ? null : Conditional();
                    Expect("]");
                    target = new Expression(s => Values.Slice(t.Evaluate(s), start?.Evaluate(s), stop?.Evaluate(s)));
                }
                else
                {
                    Expect("]");
                    target = new Expression(s => Values.Index(t.Evaluate(s), start!.Evaluate(s)));
                }
            }
            else if (Accept("|"))
            {
                string filter = _tokens[_position++];
                var args = Peek() == "(" ? Arguments() : [];
                var t = target;
                target = new Expression(s => Values.Filter(filter, t.Evaluate(s), args.Select(a => a.Evaluate(s)).ToList()));
            }
            else if (Peek() == "(")
            {
                var args = Arguments();
                var t = target;
                target = new Expression(s => t.Evaluate(s) is Func<List<object?>, object?> f
                    ? f(args.Select(a => a.Evaluate(s)).ToList())
                    : throw new TemplateException("called a value that is not a function"));
            }
            else
            {
                return target;
            }
        }
    }

    private List<Expression> Arguments()
    {
        Expect("(");
        var args = new List<Expression>();
        while (!Accept(")"))
        {
            if (Peek(1) == "=" && Peek() is { } name && char.IsLetter(name[0])) _position += 2; // keyword argument: value only
            args.Add(Conditional());
            if (Peek() != ")") Expect(",");
        }
        return args;
    }

    private Expression Primary()
    {
        string token = _tokens[_position++];
        if (token == "(")
        {
            var inner = Conditional();
            Expect(")");
            return inner;
        }
        if (token == "[")
        {
            var items = new List<Expression>();
            while (!Accept("]"))
            {
                items.Add(Conditional());
                if (Peek() != "]") Expect(",");
            }
            return new Expression(s => items.Select(i => i.Evaluate(s)).ToList());
        }
        if (token == "{")
        {
            var entries = new List<(Expression, Expression)>();
            while (!Accept("}"))
            {
                var key = Conditional();
                Expect(":");
                entries.Add((key, Conditional()));
                if (Peek() != "}") Expect(",");
            }
            return new Expression(s => entries.ToDictionary(e => Values.ToText(e.Item1.Evaluate(s)), e => e.Item2.Evaluate(s)));
        }
        if (token[0] is '\'' or '"')
        {
            string text = token[1..^1];
            return new Expression(_ => text);
        }
        if (char.IsDigit(token[0]))
        {
            object number = token.Contains('.') ? (object)double.Parse(token, CultureInfo.InvariantCulture) : long.Parse(token, CultureInfo.InvariantCulture);
            return new Expression(_ => number);
        }
        return token switch
        {
            "true" or "True" => new Expression(_ => true),
            "false" or "False" => new Expression(_ => false),
            "none" or "None" => new Expression(_ => null),
            _ => new Expression(s => s.TryGetValue(token, out var v) ? v : Undefined.Value),
        };
    }

    private static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c is '\'' or '"')
            {
                var value = new StringBuilder();
                int j = i + 1;
                while (j < text.Length && text[j] != c)
                {
                    if (text[j] == '\\' && j + 1 < text.Length)
                    {
                        j++;
                        value.Append(text[j] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', var other => other });
                    }
                    else
                    {
                        value.Append(text[j]);
                    }
                    j++;
                }
                if (j >= text.Length) throw new TemplateException($"unterminated string in '{text}'");
                tokens.Add(c + value.ToString() + c);
                i = j + 1;
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                int j = i;
                while (j < text.Length && (char.IsLetterOrDigit(text[j]) || text[j] == '_')) j++;
                tokens.Add(text[i..j]);
                i = j;
                continue;
            }
            if (char.IsDigit(c))
            {
                int j = i;
                while (j < text.Length && (char.IsDigit(text[j]) || text[j] == '.')) j++;
                tokens.Add(text[i..j]);
                i = j;
                continue;
            }
            string two = i + 1 < text.Length ? text.Substring(i, 2) : "";
            if (two is "==" or "!=" or "<=" or ">=" or "//")
            {
                tokens.Add(two);
                i += 2;
                continue;
            }
            if ("()[]{}.,:|+-*/%~<>=".Contains(c))
            {
                tokens.Add(c.ToString());
                i++;
                continue;
            }
            throw new TemplateException($"unexpected character '{c}' in '{text}'");
        }
        return tokens;
    }
}

/// <summary>A variable the template names but the caller did not give (falsy, renders as nothing).</summary>
internal sealed class Undefined
{
    public static readonly Undefined Value = new();
}
