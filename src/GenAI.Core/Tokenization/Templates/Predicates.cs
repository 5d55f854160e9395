using System.Numerics;

namespace GenAI.Core.Tokenization.Templates;

/// <summary>A Jinja test: <c>value is name(args)</c>.</summary>
internal delegate bool TestFunction(object? value, Arguments args);

/// <summary>
/// Jinja2's built-in tests with Jinja2's semantics: an undefined value is iterable and a sequence, a bool is a
/// number but not an integer, a string is iterable. A template naming any other test fails to load.
/// </summary>
internal static class Predicates
{
    private static readonly Dictionary<string, TestFunction> Registry = new(StringComparer.Ordinal)
    {
        ["defined"] = (v, a) => None(a, v is not Undefined),
        ["undefined"] = (v, a) => None(a, v is Undefined),
        ["none"] = (v, a) => None(a, v is null),
        ["boolean"] = (v, a) => None(a, v is bool),
        ["true"] = (v, a) => None(a, v is true),
        ["false"] = (v, a) => None(a, v is false),
        ["integer"] = (v, a) => None(a, v is long or BigInteger),
        ["float"] = (v, a) => None(a, v is double),
        ["number"] = (v, a) => None(a, Values.IsNumber(v)),
        ["string"] = (v, a) => None(a, v is string),
        ["mapping"] = (v, a) => None(a, v is IDictionary<string, object?>),
        ["iterable"] = (v, a) => None(a, v is Undefined or string or IList<object?> or IDictionary<string, object?> or Generator),
        ["sequence"] = (v, a) => None(a, v is Undefined or string or IDictionary<string, object?> || (v is IList<object?> && v is not DictView)),
        ["callable"] = (v, a) => None(a, v is Callable or Undefined or LoopContext),
        ["escaped"] = (v, a) => None(a, false),
        ["lower"] = (v, a) => None(a, PythonText.Str(v) is var s && s.Any(char.IsLower) && !s.Any(char.IsUpper)),
        ["upper"] = (v, a) => None(a, PythonText.Str(v) is var s && s.Any(char.IsUpper) && !s.Any(char.IsLower)),
        ["odd"] = (v, a) => None(a, Values.Equal(Values.Binary("%", v, 2L), 1L)),
        ["even"] = (v, a) => None(a, Values.Equal(Values.Binary("%", v, 2L), 0L)),
        ["divisibleby"] = (v, a) => Values.Equal(Values.Binary("%", v, One(a, "divisibleby", "num")), 0L),
        ["sameas"] = (v, a) => SameAs(v, One(a, "sameas", "other")),
        ["in"] = (v, a) => Values.Contains(One(a, "in", "seq"), v),
        ["filter"] = (v, a) => None(a, v is string name && Filters.Exists(name)),
        ["test"] = (v, a) => None(a, v is string name && Exists(name)),
        ["eq"] = Compare("=="), ["equalto"] = Compare("=="), ["=="] = Compare("=="),
        ["ne"] = Compare("!="), ["!="] = Compare("!="),
        ["lt"] = Compare("<"), ["lessthan"] = Compare("<"), ["<"] = Compare("<"),
        ["le"] = Compare("<="), ["<="] = Compare("<="),
        ["gt"] = Compare(">"), ["greaterthan"] = Compare(">"), [">"] = Compare(">"),
        ["ge"] = Compare(">="), [">="] = Compare(">="),
    };

    public static bool TryGet(string name, out TestFunction test) => Registry.TryGetValue(name, out test!);

    public static bool Exists(string name) => Registry.ContainsKey(name);

    private static bool None(Arguments args, bool result)
    {
        if (args.Positional.Count > 0 || args.Keywords.Count > 0) throw new TemplateException("this test takes no arguments");
        return result;
    }

    private static object? One(Arguments args, string test, string parameter) => args.Bind(test, [parameter], 1)[0];

    private static TestFunction Compare(string op) => (v, a) => Values.Compare(op, v, One(a, op, "other"));

    // Python's "is": identity; None, bools and small ints are singletons, equal strings and numbers otherwise are not.
    private static bool SameAs(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (bool x, bool y) => x == y,
        (long x, long y) => x == y && x is >= -5 and <= 256,
        _ => a is not null && ReferenceEquals(a, b),
    };
}
