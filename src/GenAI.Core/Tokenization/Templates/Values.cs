using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GenAI.Core.Tokenization.Templates;

/// <summary>
/// Python's semantics for template values, as Jinja2 applies them in transformers' immutable sandbox: truthiness,
/// equality and ordering, <c>in</c>, arithmetic, attribute and item lookup, slicing, iteration and calls. Whatever
/// Python would raise on raises a <see cref="TemplateException"/> here.
/// </summary>
internal static class Values
{
    // ---- conversion from the caller's values ----

    /// <summary>A template value for a CLR or JSON value: JSON objects become dicts, arrays lists, numbers int or float.</summary>
    public static object? Import(object? value) => value switch
    {
        null => null,
        string or bool or long or double or BigInteger or Undefined or PyTuple or DictView or RangeValue or Generator or Namespace
            or LoopContext or Callable or Markup => value,
        int v => (long)v,
        short v => (long)v,
        byte v => (long)v,
        uint v => (long)v,
        ulong v => PyInt.Normalize(v),
        float v => (double)v,
        decimal v => (double)v,
        char v => v.ToString(),
        JsonNode node => FromJson(node),
        JsonElement element => FromJson(element),
        IEnumerable<KeyValuePair<string, object?>> d => ToDict(d.Select(kv => new KeyValuePair<string, object?>(kv.Key, Import(kv.Value)))),
        IEnumerable e => e.Cast<object?>().Select(Import).ToList(),
        _ => throw new ArgumentException($"a template cannot use a value of type {value.GetType().Name}"),
    };

    /// <summary>A template value for JSON: object to dict (order kept), array to list, number to int or float as Python's json reads it.</summary>
    public static object? FromJson(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => ToDict(o.Select(kv => new KeyValuePair<string, object?>(kv.Key, FromJson(kv.Value)))),
        JsonArray a => a.Select(FromJson).ToList(),
        JsonValue v => v.TryGetValue<JsonElement>(out var element) ? FromJson(element) : FromClrJsonValue(v),
        _ => throw new ArgumentException($"unexpected JSON node {node.GetType().Name}"),
    };

    public static object? FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => ToDict(element.EnumerateObject().Select(p => new KeyValuePair<string, object?>(p.Name, FromJson(p.Value)))),
        JsonValueKind.Array => element.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => JsonNumber(element.GetRawText()),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    private static object? FromClrJsonValue(JsonValue v)
    {
        if (v.TryGetValue<double>(out double d)) return d;
        if (v.TryGetValue<float>(out float f)) return (double)f;
        if (v.TryGetValue<decimal>(out decimal m)) return (double)m;
        if (v.TryGetValue<string>(out string? s)) return s;
        if (v.TryGetValue<bool>(out bool b)) return b;
        using var doc = JsonDocument.Parse(v.ToJsonString());
        return FromJson(doc.RootElement);
    }

    // Python's json: a number with a fraction or exponent is a float, any other an int of any size.
    private static object JsonNumber(string raw) => raw.AsSpan().IndexOfAny('.', 'e', 'E') >= 0
        ? double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture)
        : PyInt.Normalize(BigInteger.Parse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));

    public static OrderedDictionary<string, object?> ToDict(IEnumerable<KeyValuePair<string, object?>> entries)
    {
        var d = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in entries) d[key] = value;
        return d;
    }

    // ---- types ----

    /// <summary>Python's <c>type(value).__name__</c>, for messages.</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long or BigInteger => "int",
        double => "float",
        string => "str",
        PyTuple => "tuple",
        DictView v => v.Kind,
        RangeValue => "range",
        IList<object?> => "list",
        IDictionary<string, object?> => "dict",
        Generator g => g.Kind,
        Namespace => "Namespace",
        LoopContext => "LoopContext",
        Callable => "function",
        Undefined => "Undefined",
        Markup => "Markup",
        _ => value.GetType().Name,
    };

    /// <summary>The value with a <see cref="Markup"/> replaced by its text.</summary>
    public static object? Plain(object? v) => v is Markup m ? m.Text : v;

    public static bool IsNumber(object? v) => v is bool or long or double or BigInteger;

    public static bool IsInteger(object? v) => v is bool or long or BigInteger;

    private static BigInteger ToBig(object? v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        BigInteger i => i,
        _ => throw new InvalidOperationException(),
    };

    public static double ToDouble(object? v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        BigInteger i => (double)i,
        double d => d,
        _ => throw new InvalidOperationException(),
    };

    /// <summary>The value as a C# index/count, for arguments Python requires to be an int.</summary>
    public static long ToLong(object? v, string what) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        BigInteger i when i >= long.MinValue && i <= long.MaxValue => (long)i,
        Undefined u => throw u.Fail(),
        _ => throw new TemplateException($"{what} must be an integer, not '{TypeName(v)}'"),
    };

    // ---- truth, equality, order ----

    public static bool Truthy(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        BigInteger i => !i.IsZero,
        double d => d != 0,
        string s => s.Length > 0,
        Markup m => m.Text.Length > 0,
        ICollection c => c.Count > 0,
        IDictionary<string, object?> d => d.Count > 0,
        _ => true, // generators, namespaces, functions: always true in Python
    };

    public static bool Equal(object? a, object? b)
    {
        using var nesting = NestingGuard.Enter();
        (a, b) = (Plain(a), Plain(b));
        if (a is Undefined || b is Undefined) return a is Undefined && b is Undefined;
        if (IsNumber(a) && IsNumber(b))
        {
            return a is double || b is double ? ToDouble(a) == ToDouble(b) : ToBig(a) == ToBig(b);
        }
        return (a, b) switch
        {
            (null, null) => true,
            (string x, string y) => x == y,
            (List<object?> x, List<object?> y) => SequenceEqual(x, y),
            (PyTuple x, PyTuple y) => SequenceEqual(x, y),
            (RangeValue x, RangeValue y) => SequenceEqual(x, y),
            (IDictionary<string, object?> x, IDictionary<string, object?> y) =>
                x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var other) && Equal(kv.Value, other)),
            _ => ReferenceEquals(a, b),
        };
    }

    private static bool SequenceEqual(IList<object?> x, IList<object?> y)
    {
        if (x.Count != y.Count) return false;
        for (int i = 0; i < x.Count; i++)
        {
            if (!Equal(x[i], y[i])) return false;
        }
        return true;
    }

    /// <summary>Python's ordering (&lt; &lt;= &gt; &gt;=): numbers, strings by code point, lists and tuples item by item.</summary>
    public static int Order(object? a, object? b, string op)
    {
        using var nesting = NestingGuard.Enter();
        (a, b) = (Plain(a), Plain(b));
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double)
            {
                double x = ToDouble(a), y = ToDouble(b);
                return x < y ? -1 : x > y ? 1 : 0;
            }
            return ToBig(a).CompareTo(ToBig(b));
        }
        switch (a, b)
        {
            case (string x, string y):
                return PythonText.CodePointComparer.Instance.Compare(x, y);
            case (List<object?> x, List<object?> y):
                return OrderSequences(x, y, op);
            case (PyTuple x, PyTuple y):
                return OrderSequences(x, y, op);
        }
        throw new TemplateException($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    private static int OrderSequences(IList<object?> x, IList<object?> y, string op)
    {
        for (int i = 0; i < Math.Min(x.Count, y.Count); i++)
        {
            if (!Equal(x[i], y[i])) return Order(x[i], y[i], op);
        }
        return x.Count.CompareTo(y.Count);
    }

    public static bool Compare(string op, object? a, object? b) => op switch
    {
        "==" => Equal(a, b),
        "!=" => !Equal(a, b),
        "<" => Order(a, b, op) < 0,
        "<=" => Order(a, b, op) <= 0,
        ">" => Order(a, b, op) > 0,
        ">=" => Order(a, b, op) >= 0,
        _ => throw new InvalidOperationException(op),
    };

    /// <summary>Python's <c>item in container</c>.</summary>
    public static bool Contains(object? container, object? item)
    {
        (container, item) = (Plain(container), Plain(item));
        switch (container)
        {
            case Undefined:
                return false;
            case string s:
                if (item is string sub) return s.Contains(sub, StringComparison.Ordinal);
                throw new TemplateException($"'in <string>' requires string as left operand, not {TypeName(item)}");
            case IDictionary<string, object?> d:
                if (item is List<object?> or IDictionary<string, object?>) throw new TemplateException($"unhashable type: '{TypeName(item)}'");
                return item is string key && d.ContainsKey(key);
            case IList<object?> l:
                return l.Any(x => Equal(x, item));
            case Generator g:
                return g.Consume().Any(x => Equal(x, item));
            default:
                throw new TemplateException($"argument of type '{TypeName(container)}' is not iterable");
        }
    }

    // ---- arithmetic ----

    public static object? Binary(string op, object? a, object? b)
    {
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
        if (a is Markup || b is Markup) return MarkupBinary(op, a, b);
        if (IsNumber(a) && IsNumber(b)) return Numeric(op, a, b);
        switch (op, a, b)
        {
            case ("+", string x, string y):
                JinjaTemplate.CheckLength((long)x.Length + y.Length, "a string");
                return x + y;
            case ("+", List<object?> x, List<object?> y):
                JinjaTemplate.CheckLength((long)x.Count + y.Count, "a list");
                return x.Concat(y).ToList();
            case ("+", PyTuple x, PyTuple y):
                JinjaTemplate.CheckLength((long)x.Count + y.Count, "a tuple");
                return new PyTuple(x.Concat(y).ToArray());
            case ("+", string or List<object?> or PyTuple, _):
                throw new TemplateException($"can only concatenate {TypeName(a)} (not \"{TypeName(b)}\") to {TypeName(a)}");
            case ("*", string or List<object?> or PyTuple, bool or long):
                return Repeat(a, ToLong(b, "count"));
            case ("*", bool or long, string or List<object?> or PyTuple):
                return Repeat(b, ToLong(a, "count"));
            case ("%", string format, _):
                return PercentFormat.Apply(format, b);
        }
        throw new TemplateException($"unsupported operand type(s) for {op}: '{TypeName(a)}' and '{TypeName(b)}'");
    }

    // Markup + str escapes the str; Markup * n repeats; the rest works on the text.
    private static object? MarkupBinary(string op, object? a, object? b)
    {
        static string Text(object? v) => v is Markup m ? m.Text : Markup.Escape((string)v!);
        switch (op)
        {
            case "+" when a is string or Markup && b is string or Markup:
                return new Markup(Text(a) + Text(b));
            case "*" when a is Markup m && b is bool or long:
                return new Markup((string)Repeat(m.Text, ToLong(b, "count")));
            case "*" when b is Markup m && a is bool or long:
                return new Markup((string)Repeat(m.Text, ToLong(a, "count")));
            case "%":
                throw new TemplateException("'%' formatting of a Markup (|safe) string is not supported");
            default:
                return Binary(op, Plain(a), Plain(b));
        }
    }

    // Python's sequence * n (n below 1 gives an empty one), within the template's length limit.
    private static object Repeat(object? sequence, long times)
    {
        long length = sequence switch { string s => s.Length, ICollection<object?> c => c.Count, _ => 0 };
        int n = times <= 0 || length == 0 ? 0 : (int)Math.Min(times, JinjaTemplate.MaxOutputLength + 1L);
        JinjaTemplate.CheckLength(length * n, sequence is string ? "a repeated string" : "a repeated sequence");
        return sequence switch
        {
            string s => string.Concat(Enumerable.Repeat(s, n)),
            List<object?> l => Enumerable.Repeat(l, n).SelectMany(x => x).ToList(),
            PyTuple t => new PyTuple(Enumerable.Repeat(t, n).SelectMany(x => x).ToArray()),
            _ => throw new InvalidOperationException(),
        };
    }

    private static object Numeric(string op, object? a, object? b)
    {
        if (op == "/")
        {
            double divisor = ToDouble(b);
            if (divisor == 0) throw new TemplateException("division by zero");
            return ToDouble(a) / divisor;
        }
        if (a is double || b is double)
        {
            double x = ToDouble(a), y = ToDouble(b);
            switch (op)
            {
                case "+": return x + y;
                case "-": return x - y;
                case "*": return x * y;
                case "**": return Math.Pow(x, y);
                case "//" or "%" when y == 0: throw new TemplateException(op == "%" ? "float modulo" : "float floor division by zero");
                case "//": return Math.Floor(x / y);
                case "%":
                {
                    double r = x % y; // C's fmod, then Python's sign rule
                    if (r != 0 && (r < 0) != (y < 0)) r += y;
                    return r;
                }
            }
        }
        BigInteger p = ToBig(a), q = ToBig(b);
        switch (op)
        {
            case "+": return PyInt.Normalize(p + q);
            case "-": return PyInt.Normalize(p - q);
            case "*": return PyInt.Normalize(p * q);
            case "**":
                if (q.Sign < 0) return Math.Pow((double)p, (double)q);
                if (q > 100_000) throw new TemplateException("exponent too large");
                return PyInt.Normalize(BigInteger.Pow(p, (int)q));
            case "//" or "%" when q.IsZero: throw new TemplateException("integer division or modulo by zero");
            case "//":
            {
                var quotient = BigInteger.DivRem(p, q, out var remainder);
                if (!remainder.IsZero && (remainder.Sign < 0) != (q.Sign < 0)) quotient -= 1;
                return PyInt.Normalize(quotient);
            }
            case "%":
            {
                var remainder = BigInteger.Remainder(p, q);
                if (!remainder.IsZero && (remainder.Sign < 0) != (q.Sign < 0)) remainder += q;
                return PyInt.Normalize(remainder);
            }
        }
        throw new InvalidOperationException(op);
    }

    public static object? Negate(object? v, bool minus) => v switch
    {
        Undefined u => throw u.Fail(),
        double d => minus ? -d : d,
        bool or long or BigInteger => PyInt.Normalize(minus ? -ToBig(v) : ToBig(v)),
        _ => throw new TemplateException($"bad operand type for unary {(minus ? '-' : '+')}: '{TypeName(v)}'"),
    };

    // ---- attributes, items, slices ----

    private static readonly HashSet<string> StringMethods =
    [
        "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format", "format_map", "index", "isalnum",
        "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper",
        "join", "ljust", "lower", "lstrip", "maketrans", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust",
        "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill",
    ];

    private static readonly HashSet<string> DictMethods = ["copy", "fromkeys", "get", "items", "keys", "values"];

    private static readonly HashSet<string> ListMethods = ["copy", "count", "index"];

    // What transformers' ImmutableSandboxedEnvironment refuses: anything that would change a list or dict.
    private static readonly HashSet<string> DictMutators = ["clear", "pop", "popitem", "setdefault", "update"];

    private static readonly HashSet<string> ListMutators = ["append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"];

    /// <summary>Jinja2's <c>obj.name</c>: Python attribute first (methods), then item.</summary>
    public static object? GetAttr(object? obj, string name)
    {
        obj = Plain(obj);
        if (obj is Undefined u) throw u.Fail();
        if (name.StartsWith("__", StringComparison.Ordinal)) throw Unsafe(obj, name);
        switch (obj)
        {
            case string s:
                return StringMethods.Contains(name) ? new BoundMethod(s, name) : Undefined.Attribute(obj, name);
            case IDictionary<string, object?> d:
                if (DictMethods.Contains(name)) return new BoundMethod(d, name);
                if (DictMutators.Contains(name)) throw Unsafe(obj, name);
                return d.TryGetValue(name, out var value) ? value : Undefined.Attribute(obj, name);
            case List<object?> l:
                if (ListMethods.Contains(name)) return new BoundMethod(l, name);
                if (ListMutators.Contains(name)) throw Unsafe(obj, name);
                return Undefined.Attribute(obj, name);
            case PyTuple t:
                return name is "count" or "index" ? new BoundMethod(t, name) : Undefined.Attribute(obj, name);
            case Namespace ns:
                return ns.Attributes.TryGetValue(name, out var attribute) ? attribute : Undefined.Attribute(obj, name);
            case LoopContext loop:
                return loop.Member(name);
            case bool b when name == "real":
                return b ? 1L : 0L;
            case long or BigInteger or double when name == "real":
                return obj;
            default:
                return Undefined.Attribute(obj, name);
        }
    }

    private static TemplateException Unsafe(object? obj, string name) =>
        new($"access to attribute '{name}' of '{TypeName(obj)}' object is unsafe.");

    /// <summary>Jinja2's <c>obj[key]</c>: Python item first, then attribute for a string key; a miss is undefined.</summary>
    public static object? GetItem(object? obj, object? key)
    {
        (obj, key) = (Plain(obj), Plain(key));
        if (obj is Undefined u) throw u.Fail();
        if (key is SliceKey slice) return Slice(obj, slice);
        switch (obj)
        {
            case IDictionary<string, object?> d when key is string k && d.TryGetValue(k, out var value):
                return value;
            case IList<object?> l when obj is not DictView && key is bool or long or BigInteger:
            {
                long i = ToLong(key, "index");
                if (i < 0) i += l.Count;
                return i >= 0 && i < l.Count ? l[(int)i] : Undefined.Element(obj, key);
            }
            case string s when key is bool or long or BigInteger:
            {
                long i = ToLong(key, "index");
                if (!PythonText.HasSurrogates(s))
                {
                    if (i < 0) i += s.Length;
                    return i >= 0 && i < s.Length ? s[(int)i].ToString() : Undefined.Element(obj, key);
                }
                var points = PythonText.CodePoints(s);
                if (i < 0) i += points.Length;
                return i >= 0 && i < points.Length ? char.ConvertFromUtf32(points[i]) : Undefined.Element(obj, key);
            }
        }
        return key is string name ? GetAttr(obj, name) : Undefined.Element(obj, key);
    }

    /// <summary>A <c>[start:stop:step]</c> subscript.</summary>
    public sealed record SliceKey(object? Start, object? Stop, object? Step);

    private static object? Slice(object? obj, SliceKey slice)
    {
        switch (obj)
        {
            case string s when !PythonText.HasSurrogates(s):
                return new string(SliceIndexes(s.Length, slice).Select(i => s[i]).ToArray());
            case string s:
            {
                var points = PythonText.CodePoints(s);
                return PythonText.FromCodePoints(SliceIndexes(points.Length, slice).Select(i => points[i]));
            }
            case PyTuple t:
                return new PyTuple(SliceIndexes(t.Count, slice).Select(i => t[i]).ToArray());
            case IList<object?> l when obj is not DictView:
                return SliceIndexes(l.Count, slice).Select(i => l[i]).ToList();
            case Undefined u:
                throw u.Fail();
            default:
                return Undefined.Element(obj, "slice");
        }
    }

    // Python's slice.indices, then the positions it selects.
    private static IEnumerable<int> SliceIndexes(int length, SliceKey slice)
    {
        long step = slice.Step is null ? 1 : ToLong(slice.Step, "slice step");
        if (step == 0) throw new TemplateException("slice step cannot be zero");
        long Bound(object? value, long fallback)
        {
            if (value is null) return fallback;
            long v = ToLong(value, "slice index");
            if (v < 0)
            {
                v += length;
                if (v < 0) v = step < 0 ? -1 : 0;
            }
            else if (v >= length)
            {
                v = step < 0 ? length - 1 : length;
            }
            return v;
        }
        long start = Bound(slice.Start, step < 0 ? length - 1 : 0);
        long stop = Bound(slice.Stop, step < 0 ? -1 : length);
        var indexes = new List<int>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) indexes.Add((int)i);
        return indexes;
    }

    // ---- iteration, length, calls ----

    /// <summary>What <c>for x in value</c> walks: items, dict keys, string characters (code points).</summary>
    public static IEnumerable<object?> Iterate(object? value) => Plain(value) switch
    {
        Undefined => [],
        string s when !PythonText.HasSurrogates(s) => s.Select(c => (object?)c.ToString()),
        string s => PythonText.CodePoints(s).Select(cp => (object?)char.ConvertFromUtf32(cp)),
        IList<object?> l => l,
        IDictionary<string, object?> d => d.Keys.Cast<object?>(),
        Generator g => g.Consume(),
        var other => throw new TemplateException($"'{TypeName(other)}' object is not iterable"),
    };

    /// <summary>Python's <c>len(value)</c> (an undefined value has length 0, as in Jinja2).</summary>
    public static long Length(object? value) => Plain(value) switch
    {
        Undefined => 0,
        string s => PythonText.Length(s),
        ICollection c => c.Count,
        IDictionary<string, object?> d => d.Count,
        var other => throw new TemplateException($"object of type '{TypeName(other)}' has no len()"),
    };

    public static object? Call(object? callee, Arguments args) => callee switch
    {
        Callable f => f.Call(args),
        Undefined u => throw u.Fail(),
        _ => throw new TemplateException($"'{TypeName(callee)}' object is not callable"),
    };
}
