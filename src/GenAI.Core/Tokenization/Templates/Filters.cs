using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;

namespace GenAI.Core.Tokenization.Templates;

/// <summary>A filter: <c>value | name(args)</c>.</summary>
internal delegate object? FilterFunction(object? value, Arguments args);

/// <summary>
/// Jinja2's built-in filters that chat templates use, with Jinja2 3.1's semantics (including which of them return
/// lazy generators), and transformers' <c>tojson</c> (<c>json.dumps</c> with <c>ensure_ascii=False</c>, keys in
/// order). A template naming any other filter fails to load.
/// </summary>
internal static partial class Filters
{
    private static readonly HashSet<string> DictMethodNames = ["copy", "fromkeys", "get", "items", "keys", "values"];

    private static readonly Dictionary<string, FilterFunction> Registry = new(StringComparer.Ordinal)
    {
        ["abs"] = (v, a) =>
        {
            a.Bind("abs", []);
            return v switch
            {
                double d => Math.Abs(d),
                bool or long or BigInteger => PyInt.Normalize(BigInteger.Abs(v is BigInteger b ? b : Values.ToLong(v, "value"))),
                Undefined u => throw u.Fail(),
                _ => throw new TemplateException($"bad operand type for abs(): '{Values.TypeName(v)}'"),
            };
        },
        ["attr"] = (v, a) =>
        {
            // Python's getattr only: a dict's keys are not its attributes.
            string name = PythonText.Str(a.Bind("attr", ["name"], 1)[0]);
            return v is IDictionary<string, object?> && !DictMethodNames.Contains(name) ? Undefined.Attribute(v, name) : Values.GetAttr(v, name);
        },
        ["batch"] = Batch,
        ["capitalize"] = (v, a) => PythonText.Capitalize(Text(v, a, "capitalize")),
        ["center"] = (v, a) => Methods.Pad(PythonText.Str(v), Values.ToLong(a.Bind("center", ["width"], 0, [80L])[0], "width"), " ", '^'),
        ["count"] = (v, a) => Length(v, a),
        ["d"] = Default,
        ["default"] = Default,
        ["dictsort"] = DictSort,
        ["e"] = (v, a) => Escape(v, a),
        ["escape"] = (v, a) => Escape(v, a),
        ["first"] = (v, a) =>
        {
            a.Bind("first", []);
            foreach (var item in Values.Iterate(v)) return item;
            return new Undefined("No first item, sequence was empty.");
        },
        ["float"] = (v, a) => ToFloat(v) ?? a.Bind("float", ["default"], 0, [0.0])[0],
        ["forceescape"] = (v, a) => Escape(v, a),
        ["format"] = (v, a) =>
        {
            if (a.Positional.Count > 0 && a.Keywords.Count > 0) throw new TemplateException("can't handle positional and keyword arguments at the same time");
            object? values = a.Keywords.Count > 0 ? Values.ToDict(a.Keywords) : new PyTuple(a.Positional.ToArray());
            return PercentFormat.Apply(PythonText.Str(v), values);
        },
        ["indent"] = Indent,
        ["int"] = (v, a) =>
        {
            var p = a.Bind("int", ["default", "base"], 0, [0L, 10L]);
            return ToInt(v, (int)Values.ToLong(p[1], "base")) ?? p[0];
        },
        ["items"] = (v, a) =>
        {
            a.Bind("items", []);
            return v switch
            {
                Undefined => new Generator([], "generator"),
                IDictionary<string, object?> d => new Generator(d.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])).ToList(), "generator"),
                _ => throw new TemplateException("Can only get item pairs from a mapping."),
            };
        },
        ["join"] = (v, a) =>
        {
            var p = a.Bind("join", ["d", "attribute"], 0, ["", null]);
            var items = Values.Iterate(v);
            if (p[1] is not null) items = items.Select(AttributeGetter(p[1])).ToList();
            return Methods.Join(PythonText.Str(p[0]), items.Select(PythonText.Str).ToList());
        },
        ["last"] = (v, a) =>
        {
            a.Bind("last", []);
            if (v is Generator g) throw new TemplateException($"'{g.Kind}' object is not reversible");
            var items = Values.Iterate(v).ToList();
            return items.Count > 0 ? items[^1] : new Undefined("No last item, sequence was empty.");
        },
        ["length"] = (v, a) => Length(v, a),
        ["list"] = (v, a) =>
        {
            a.Bind("list", []);
            return Values.Iterate(v).ToList();
        },
        ["lower"] = (v, a) => PythonText.Lower(Text(v, a, "lower")),
        ["map"] = Map,
        ["max"] = (v, a) => MinMax(v, a, "max"),
        ["min"] = (v, a) => MinMax(v, a, "min"),
        ["reject"] = (v, a) => Select(v, a, "reject", attribute: false, keep: false),
        ["rejectattr"] = (v, a) => Select(v, a, "rejectattr", attribute: true, keep: false),
        ["replace"] = (v, a) =>
        {
            var p = a.Bind("replace", ["old", "new", "count"], 2, [null]);
            return Methods.Call(PythonText.Str(v), "replace",
                new Arguments([PythonText.Str(p[0]), PythonText.Str(p[1]), p[2] ?? -1L], []));
        },
        ["reverse"] = (v, a) =>
        {
            a.Bind("reverse", []);
            return v switch
            {
                string s => Values.GetItem(s, new Values.SliceKey(null, null, -1L)),
                IList<object?> l when v is not DictView => new Generator(l.Reverse().ToList(), "list_reverseiterator"),
                IDictionary<string, object?> d => new Generator(d.Keys.Reverse().Cast<object?>().ToList(), "dict_reversekeyiterator"),
                _ => Values.Iterate(v).Reverse().ToList(),
            };
        },
        ["round"] = Round,
        ["safe"] = (v, a) =>
        {
            a.Bind("safe", []);
            return v as Markup ?? new Markup(PythonText.Str(v));
        },
        ["select"] = (v, a) => Select(v, a, "select", attribute: false, keep: true),
        ["selectattr"] = (v, a) => Select(v, a, "selectattr", attribute: true, keep: true),
        ["sort"] = (v, a) =>
        {
            var p = a.Bind("sort", ["reverse", "case_sensitive", "attribute"], 0, [false, false, null]);
            var key = SortKey(p[2], Values.Truthy(p[1]));
            return Sorted(Values.Iterate(v), key, Values.Truthy(p[0]));
        },
        ["string"] = (v, a) =>
        {
            a.Bind("string", []);
            return PythonText.Str(v);
        },
        ["sum"] = (v, a) =>
        {
            var p = a.Bind("sum", ["attribute", "start"], 0, [null, 0L]);
            var items = p[0] is null ? Values.Iterate(v) : Values.Iterate(v).Select(AttributeGetter(p[0]));
            return items.Aggregate(p[1], (total, item) => Values.Binary("+", total, item));
        },
        ["title"] = (v, a) => string.Concat(WordBeginning().Split(Text(v, a, "title")).Where(w => w.Length > 0)
            .Select(w => PythonText.Upper(w[..1]) + PythonText.Lower(w[1..]))),
        ["tojson"] = ToJson,
        ["trim"] = (v, a) => Methods.Call(PythonText.Str(v), "strip", new Arguments([a.Bind("trim", ["chars"], 0, [null])[0]], [])),
        ["unique"] = Unique,
        ["upper"] = (v, a) => PythonText.Upper(Text(v, a, "upper")),
        ["wordcount"] = (v, a) => (long)Word().Matches(Text(v, a, "wordcount")).Count,
    };

    public static bool TryGet(string name, out FilterFunction filter) => Registry.TryGetValue(name, out filter!);

    public static bool Exists(string name) => Registry.ContainsKey(name);

    [GeneratedRegex(@"([-\s({\[<]+)")]
    private static partial Regex WordBeginning();

    [GeneratedRegex(@"\w+")]
    private static partial Regex Word();

    private static string Text(object? value, Arguments args, string filter)
    {
        args.Bind(filter, []);
        return PythonText.Str(value);
    }

    private static object Length(object? value, Arguments args)
    {
        args.Bind("length", []);
        return Values.Length(value);
    }

    private static object? Default(object? value, Arguments args)
    {
        var p = args.Bind("default", ["default_value", "boolean"], 0, ["", false]);
        return value is Undefined || (Values.Truthy(p[1]) && !Values.Truthy(value)) ? p[0] : value;
    }

    private static Markup Escape(object? value, Arguments args)
    {
        args.Bind("escape", []);
        return value as Markup ?? new Markup(Markup.Escape(PythonText.Str(value)));
    }

    // transformers' tojson: json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys).
    private static object ToJson(object? value, Arguments args)
    {
        var p = args.Bind("tojson", ["ensure_ascii", "indent", "separators", "sort_keys"], 0, [false, null, null, false]);
        string? indent = p[1] switch
        {
            null => null,
            string s => s,
            bool or long => Spaces(Values.ToLong(p[1], "indent"), "tojson indent"),
            _ => throw new TemplateException($"tojson: indent must be an integer or a string, not {Values.TypeName(p[1])}"),
        };
        string? itemSeparator = null, keySeparator = null;
        if (p[2] is not null)
        {
            if (p[2] is not IList<object?> { Count: 2 } separators || separators[0] is not string item || separators[1] is not string key)
            {
                throw new TemplateException("tojson: separators must be a pair of strings");
            }
            (itemSeparator, keySeparator) = (item, key);
        }
        return PythonText.Json(value, Values.Truthy(p[0]), indent, itemSeparator, keySeparator, Values.Truthy(p[3]));
    }

    // Python's ' ' * n: nothing for n below 1.
    private static string Spaces(long n, string what)
    {
        JinjaTemplate.CheckLength(n, what);
        return new string(' ', (int)Math.Max(0, n));
    }

    private static object Indent(object? value, Arguments args)
    {
        var p = args.Bind("indent", ["width", "first", "blank"], 0, [4L, false, false]);
        if (value is Undefined u) throw u.Fail();
        if (value is not string s) throw new TemplateException($"indent: expected a string, not {Values.TypeName(value)}");
        string indention = p[0] is string text ? text : Spaces(Values.ToLong(p[0], "width"), "indent width");
        var lines = PythonText.SplitLines(s + "\n");
        JinjaTemplate.CheckLength(s.Length + (lines.Count + 1L) * indention.Length, "the indented string");
        string result;
        if (Values.Truthy(p[2]))
        {
            result = string.Join("\n" + indention, lines);
        }
        else
        {
            result = lines[0];
            if (lines.Count > 1) result += "\n" + string.Join("\n", lines.Skip(1).Select(line => line.Length > 0 ? indention + line : line));
        }
        return Values.Truthy(p[1]) ? indention + result : result;
    }

    private static object Batch(object? value, Arguments args)
    {
        var p = args.Bind("batch", ["linecount", "fill_with"], 1, [null]);
        long size = Values.ToLong(p[0], "linecount");
        if (size <= 0) throw new TemplateException("batch: linecount must be positive");
        var batches = new List<object?>();
        var current = new List<object?>();
        foreach (var item in Values.Iterate(value))
        {
            if (current.Count == size)
            {
                batches.Add(current);
                current = [];
            }
            current.Add(item);
        }
        if (current.Count > 0)
        {
            if (p[1] is not null) while (current.Count < size) current.Add(p[1]);
            batches.Add(current);
        }
        return new Generator(batches, "generator");
    }

    private static object? ToFloat(object? value)
    {
        switch (value)
        {
            case double d: return d;
            case bool or long or BigInteger: return Values.ToDouble(value);
            case string s:
            {
                string t = s.Trim(PythonText.WhitespaceChars).Replace("_", "", StringComparison.Ordinal);
                string lower = t.ToLowerInvariant().TrimStart('+', '-');
                if (lower is "inf" or "infinity" or "nan")
                {
                    double special = lower == "nan" ? double.NaN : double.PositiveInfinity;
                    return t.StartsWith('-') ? -special : special;
                }
                return t.Length > 0 && !t.Contains(',') && double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) ? parsed : null;
            }
            default: return null;
        }
    }

    // Jinja2's int filter: int(value, base) for strings, int(value) otherwise, then int(float(value)), else the default.
    private static object? ToInt(object? value, int numberBase)
    {
        switch (value)
        {
            case bool or long or BigInteger: return PyInt.Normalize(value is BigInteger b ? b : Values.ToLong(value, "value"));
            case double d when double.IsInfinity(d): throw new TemplateException("cannot convert float infinity to integer");
            case double d when double.IsNaN(d): return null;
            case double d: return PyInt.Normalize(new BigInteger(Math.Truncate(d)));
            case string s:
            {
                string t = s.Trim(PythonText.WhitespaceChars).Replace("_", "", StringComparison.Ordinal);
                bool negative = t.StartsWith('-');
                if (t.StartsWith('-') || t.StartsWith('+')) t = t[1..];
                if (numberBase == 16 && t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) t = t[2..];
                if (t.Length > 0 && numberBase is >= 2 and <= 36)
                {
                    BigInteger n = 0;
                    bool ok = true;
                    foreach (char c in t)
                    {
                        int digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiLetter(c) ? char.ToLowerInvariant(c) - 'a' + 10 : 99;
                        if (digit >= numberBase)
                        {
                            ok = false;
                            break;
                        }
                        n = n * numberBase + digit;
                    }
                    if (ok) return PyInt.Normalize(negative ? -n : n);
                }
                return ToFloat(s) is double f && !double.IsNaN(f) && !double.IsInfinity(f) ? PyInt.Normalize(new BigInteger(Math.Truncate(f))) : null;
            }
            default: return null;
        }
    }

    private static object Round(object? value, Arguments args)
    {
        var p = args.Bind("round", ["precision", "method"], 0, [0L, "common"]);
        long precision = Values.ToLong(p[0], "precision");
        string method = p[1] as string ?? "";
        if (method is not ("common" or "ceil" or "floor")) throw new TemplateException("method must be common, ceil or floor");
        if (!Values.IsNumber(value)) throw new TemplateException($"type {Values.TypeName(value)} doesn't define __round__ method");
        if (method != "common")
        {
            double scale = Math.Pow(10, precision);
            double x = Values.ToDouble(value) * scale;
            return (method == "ceil" ? Math.Ceiling(x) : Math.Floor(x)) / scale;
        }
        if (value is not double d) return precision >= 0 ? PyInt.Normalize(value is BigInteger b ? b : Values.ToLong(value, "value")) : Math.Round(Values.ToDouble(value) / Math.Pow(10, -precision), MidpointRounding.ToEven) * Math.Pow(10, -precision);
        if (double.IsNaN(d) || double.IsInfinity(d)) return d;
        if (precision < 0 || precision > 300) return Math.Round(d / Math.Pow(10, -precision), MidpointRounding.ToEven) * Math.Pow(10, -precision);
        // Python rounds the exact binary value, ties to even: exactly what correctly rounded fixed formatting gives.
        double rounded = double.Parse(FormatSpec.Fixed(Math.Abs(d), (int)precision), CultureInfo.InvariantCulture);
        return d < 0 ? -rounded : rounded;
    }

    // Jinja2's make_attrgetter: "a.b.0" looks up each part as an item (then attribute).
    private static Func<object?, object?> AttributeGetter(object? attribute, object? fallback = null)
    {
        var parts = PythonText.Str(attribute).Split('.')
            .Select(part => part.Length > 0 && part.All(char.IsAsciiDigit) ? (object)long.Parse(part, CultureInfo.InvariantCulture) : part).ToArray();
        return item =>
        {
            foreach (var part in parts)
            {
                item = Values.GetItem(item, part);
                if (fallback is not null && item is Undefined) item = fallback;
            }
            return item;
        };
    }

    private static object? IgnoreCase(object? value) => value is string s ? PythonText.Lower(s) : value;

    private static Func<object?, object?> SortKey(object? attribute, bool caseSensitive)
    {
        var get = attribute is null ? (item => item) : AttributeGetter(attribute);
        return caseSensitive ? get : item => IgnoreCase(get(item));
    }

    private sealed class PythonOrder : IComparer<object?>
    {
        public static readonly PythonOrder Instance = new();

        public int Compare(object? x, object? y) => Values.Order(x, y, "<");
    }

    // Python's sorted(): stable, also when reversed.
    private static List<object?> Sorted(IEnumerable<object?> items, Func<object?, object?> key, bool reverse)
    {
        try
        {
            return reverse ? items.OrderByDescending(key, PythonOrder.Instance).ToList() : items.OrderBy(key, PythonOrder.Instance).ToList();
        }
        catch (InvalidOperationException e) when (e.InnerException is TemplateException inner)
        {
            throw inner; // the sort wraps what the comparison threw
        }
    }

    private static object DictSort(object? value, Arguments args)
    {
        var p = args.Bind("dictsort", ["case_sensitive", "by", "reverse"], 0, [false, "key", false]);
        if (value is not IDictionary<string, object?> d) throw new TemplateException("dictsort: expected a mapping");
        int position = p[1] switch
        {
            "key" => 0,
            "value" => 1,
            _ => throw new TemplateException("You can only sort by either 'key' or 'value'"),
        };
        bool caseSensitive = Values.Truthy(p[0]);
        var pairs = d.Select(kv => (object?)new PyTuple([kv.Key, kv.Value]));
        return Sorted(pairs, pair => caseSensitive ? ((PyTuple)pair!)[position] : IgnoreCase(((PyTuple)pair!)[position]), Values.Truthy(p[2]));
    }

    private static object? MinMax(object? value, Arguments args, string name)
    {
        var p = args.Bind(name, ["case_sensitive", "attribute"], 0, [false, null]);
        var key = SortKey(p[1], Values.Truthy(p[0]));
        object? best = null;
        object? bestKey = null;
        bool any = false;
        foreach (var item in Values.Iterate(value))
        {
            var k = key(item);
            if (!any || (name == "max" ? Values.Order(k, bestKey, ">") > 0 : Values.Order(k, bestKey, "<") < 0))
            {
                best = item;
                bestKey = k;
            }
            any = true;
        }
        return any ? best : new Undefined("No aggregated item, sequence was empty.");
    }

    private static object Unique(object? value, Arguments args)
    {
        var p = args.Bind("unique", ["case_sensitive", "attribute"], 0, [false, null]);
        return new Generator(Distinct(Values.Iterate(value), SortKey(p[1], Values.Truthy(p[0]))), "generator");
    }

    private static IEnumerable<object?> Distinct(IEnumerable<object?> items, Func<object?, object?> key)
    {
        var seen = new List<object?>();
        foreach (var item in items)
        {
            var k = key(item);
            if (k is List<object?> or IDictionary<string, object?>) throw new TemplateException($"unhashable type: '{Values.TypeName(k)}'");
            if (seen.Any(s => Values.Equal(s, k))) continue;
            seen.Add(k);
            yield return item;
        }
    }

    private static object Map(object? value, Arguments args)
    {
        var items = Values.Truthy(value) ? Values.Iterate(value) : []; // Jinja2 maps nothing over a falsy value
        if (args.Positional.Count == 0 && args.Keywords.Any(kv => kv.Key == "attribute"))
        {
            var p = args.Bind("map", ["attribute", "default"], 1, [null]);
            return new Generator(items.Select(AttributeGetter(p[0], p[1])), "generator");
        }
        if (args.Positional.Count == 0) throw new TemplateException("map requires a filter argument");
        string filter = args.Positional[0] as string ?? throw new TemplateException("map: the filter name must be a string");
        if (!TryGet(filter, out var apply)) throw new TemplateException($"unsupported filter '{filter}'");
        var rest = new Arguments(args.Positional.Skip(1).ToList(), args.Keywords);
        return new Generator(items.Select(item => apply(item, rest)), "generator");
    }

    // select / reject (a test on each item) and selectattr / rejectattr (a test on one attribute of each item).
    private static object Select(object? value, Arguments args, string name, bool attribute, bool keep)
    {
        var positional = args.Positional;
        int next = 0;
        Func<object?, object?> subject = item => item;
        if (attribute)
        {
            if (positional.Count == 0) throw new TemplateException($"{name}: missing attribute argument");
            subject = AttributeGetter(positional[next++]);
        }
        Func<object?, bool> test;
        if (next < positional.Count)
        {
            string testName = positional[next++] as string ?? throw new TemplateException($"{name}: the test name must be a string");
            if (!Predicates.TryGet(testName, out var predicate)) throw new TemplateException($"unsupported test '{testName}'");
            var testArgs = new Arguments(positional.Skip(next).ToList(), args.Keywords);
            test = item => predicate(item, testArgs);
        }
        else
        {
            test = Values.Truthy;
        }
        // Jinja2 selects nothing from a falsy value (even none), without looking at the test.
        var items = Values.Truthy(value) ? Values.Iterate(value) : [];
        return new Generator(items.Where(item => test(subject(item)) == keep), "generator");
    }
}
