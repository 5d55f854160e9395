using System.Globalization;
using System.Text.Json;

namespace GenAI.Core.Tokenization.Templates;

/// <summary>Jinja's value semantics over null, bool, long, double, string, lists and string-keyed dictionaries.</summary>
internal static class Values
{
    public static bool Truthy(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        IDictionary<string, object?> d => d.Count > 0,
        IList<object?> l => l.Count > 0,
        _ => true,
    };

    public static string ToText(object? v) => v switch
    {
        null or Undefined => "",
        bool b => b ? "True" : "False",
        double d => d.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        string s => s,
        _ => Json(v),
    };

    public static IEnumerable<object?> Iterate(object? v) => v switch
    {
        null or Undefined => [],
        IList<object?> l => l,
        IDictionary<string, object?> d => d.Keys,
        string s => s.Select(c => (object?)c.ToString()),
        _ => throw new TemplateException($"cannot loop over {v.GetType().Name}"),
    };

    public static bool Equal(object? a, object? b)
    {
        if (a is Undefined) a = null;
        if (b is Undefined) b = null;
        if (IsNumber(a) && IsNumber(b)) return Convert.ToDouble(a, CultureInfo.InvariantCulture) == Convert.ToDouble(b, CultureInfo.InvariantCulture);
        return Equals(a, b);
    }

    public static bool Compare(string op, object? a, object? b)
    {
        int c = IsNumber(a) && IsNumber(b)
            ? Convert.ToDouble(a, CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(b, CultureInfo.InvariantCulture))
            : string.CompareOrdinal(ToText(a), ToText(b));
        return op switch { "<" => c < 0, ">" => c > 0, "<=" => c <= 0, _ => c >= 0 };
    }

    public static bool Contains(object? container, object? item) => container switch
    {
        string s => s.Contains(ToText(item), StringComparison.Ordinal),
        IDictionary<string, object?> d => d.ContainsKey(ToText(item)),
        IList<object?> l => l.Any(x => Equal(x, item)),
        _ => false,
    };

    public static object? Arithmetic(string op, object? a, object? b)
    {
        if (op == "+" && (a is string || b is string)) return ToText(a) + ToText(b);
        if (op == "+" && a is IList<object?> la && b is IList<object?> lb) return la.Concat(lb).ToList();
        if (a is long x && b is long y)
        {
            // Integer arithmetic stays integral (indexes), true division gives a double, as in Python.
            return op switch { "+" => (object)(x + y), "-" => x - y, "*" => x * y, "%" => x % y, "//" => x / y, _ => (double)x / y };
        }
        if (op == "*" && a is string text && b is long times) return string.Concat(Enumerable.Repeat(text, (int)Math.Max(0, times)));
        if (!IsNumber(a) || !IsNumber(b)) throw new TemplateException($"cannot apply '{op}' to {Describe(a)} and {Describe(b)}");
        double p = Convert.ToDouble(a, CultureInfo.InvariantCulture), q = Convert.ToDouble(b, CultureInfo.InvariantCulture);
        return op switch { "+" => p + q, "-" => p - q, "*" => p * q, "%" => p % q, "//" => Math.Floor(p / q), _ => p / q };
    }

    public static object? Member(object? target, string name) => target switch
    {
        IDictionary<string, object?> d => d.TryGetValue(name, out var v) ? v : Undefined.Value,
        _ => Undefined.Value,
    };

    public static object? Index(object? target, object? key) => target switch
    {
        IDictionary<string, object?> d => d.TryGetValue(ToText(key), out var v) ? v : Undefined.Value,
        IList<object?> l when key is long i => i < 0 ? (l.Count + i >= 0 ? l[(int)(l.Count + i)] : Undefined.Value) : i < l.Count ? l[(int)i] : Undefined.Value,
        string s when key is long i => i < 0 ? s[(int)(s.Length + i)].ToString() : s[(int)i].ToString(),
        _ => Undefined.Value,
    };

    public static object? Slice(object? target, object? start, object? stop)
    {
        int Bound(object? v, int count, int fallback) => v is long l ? (int)Math.Clamp(l < 0 ? count + l : l, 0, count) : fallback;
        return target switch
        {
            IList<object?> l => l.Skip(Bound(start, l.Count, 0)).Take(Math.Max(0, Bound(stop, l.Count, l.Count) - Bound(start, l.Count, 0))).ToList(),
            string s => s[Bound(start, s.Length, 0)..Math.Max(Bound(start, s.Length, 0), Bound(stop, s.Length, s.Length))],
            _ => Undefined.Value,
        };
    }

    public static object? CallMethod(object? target, string name, List<object?> args)
    {
        if (target is string s)
        {
            return name switch
            {
                "strip" => args.Count > 0 ? s.Trim(ToText(args[0]).ToCharArray()) : s.Trim(),
                "lstrip" => args.Count > 0 ? s.TrimStart(ToText(args[0]).ToCharArray()) : s.TrimStart(),
                "rstrip" => args.Count > 0 ? s.TrimEnd(ToText(args[0]).ToCharArray()) : s.TrimEnd(),
                "upper" => s.ToUpperInvariant(),
                "lower" => s.ToLowerInvariant(),
                "title" => CultureInfo.InvariantCulture.TextInfo.ToTitleCase(s),
                "startswith" => s.StartsWith(ToText(args[0]), StringComparison.Ordinal),
                "endswith" => s.EndsWith(ToText(args[0]), StringComparison.Ordinal),
                "replace" => s.Replace(ToText(args[0]), ToText(args[1]), StringComparison.Ordinal),
                "split" => (args.Count > 0 ? s.Split(ToText(args[0])) : s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).Select(x => (object?)x).ToList(),
                _ => throw new TemplateException($"unsupported string method '{name}'"),
            };
        }
        if (target is IDictionary<string, object?> d)
        {
            return name switch
            {
                "get" => d.TryGetValue(ToText(args[0]), out var v) ? v : args.Count > 1 ? args[1] : null,
                "items" => d.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList(),
                "keys" => d.Keys.Select(k => (object?)k).ToList(),
                "values" => d.Values.ToList(),
                _ => throw new TemplateException($"unsupported dictionary method '{name}'"),
            };
        }
        throw new TemplateException($"cannot call '{name}' on {Describe(target)}");
    }

    public static object? Filter(string name, object? value, List<object?> args) => name switch
    {
        "trim" => ToText(value).Trim(),
        "length" or "count" => (long)(value switch { string s => s.Length, IList<object?> l => l.Count, IDictionary<string, object?> d => d.Count, _ => 0 }),
        "lower" => ToText(value).ToLowerInvariant(),
        "upper" => ToText(value).ToUpperInvariant(),
        "string" => ToText(value),
        "tojson" => Json(value),
        "default" or "d" => value is null or Undefined ? (args.Count > 0 ? args[0] : "") : value,
        "first" => Iterate(value).FirstOrDefault(),
        "last" => Iterate(value).LastOrDefault(),
        "join" => string.Join(args.Count > 0 ? ToText(args[0]) : "", Iterate(value).Select(ToText)),
        "int" => value is string s && long.TryParse(s, out long n) ? n : IsNumber(value) ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : 0L,
        "capitalize" => ToText(value) is { Length: > 0 } c ? char.ToUpperInvariant(c[0]) + c[1..].ToLowerInvariant() : "",
        _ => throw new TemplateException($"unsupported filter '{name}'"),
    };

    public static bool Test(string name, object? value, Dictionary<string, object?> scope, Expression _) => name switch
    {
        "defined" => value is not Undefined,
        "undefined" => value is Undefined,
        "none" => value is null,
        "string" => value is string,
        "number" => IsNumber(value),
        "mapping" => value is IDictionary<string, object?>,
        "iterable" or "sequence" => value is IList<object?> or string or IDictionary<string, object?>,
        "true" => value is true,
        "false" => value is false,
        _ => throw new TemplateException($"unsupported test 'is {name}'"),
    };

    private static bool IsNumber(object? v) => v is long or double or int;

    private static string Describe(object? v) => v is null or Undefined ? "none" : v.GetType().Name;

    private static string Json(object? v) => JsonSerializer.Serialize(Plain(v));

    private static object? Plain(object? v) => v switch
    {
        Undefined => null,
        IDictionary<string, object?> d => d.ToDictionary(kv => kv.Key, kv => Plain(kv.Value)),
        IList<object?> l => l.Select(Plain).ToList(),
        _ => v,
    };
}
