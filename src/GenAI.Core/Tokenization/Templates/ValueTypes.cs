using System.Collections.ObjectModel;
using System.Numerics;

namespace GenAI.Core.Tokenization.Templates;

// The runtime values of the interpreter, modelled on the Python objects Jinja2 templates see:
//   null = None, bool, long (or BigInteger past 64 bits) = int, double = float, string = str,
//   List<object?> = list, PyTuple = tuple, OrderedDictionary<string, object?> = dict (string keys only),
//   and the types below.

/// <summary>Jinja2's default <c>Undefined</c>: prints as nothing, is falsy and empty; any other use fails with <see cref="Hint"/>.</summary>
internal sealed class Undefined(string hint)
{
    /// <summary>What is undefined, worded as Jinja2 words it ("'x' is undefined").</summary>
    public string Hint { get; } = hint;

    public static Undefined Named(string name) => new($"'{name}' is undefined");

    public static Undefined Attribute(object? owner, string name) => new($"'{Values.TypeName(owner)} object' has no attribute '{name}'");

    public static Undefined Element(object? owner, object? key) => new($"{Values.TypeName(owner)} object has no element {PythonText.Repr(key)}");

    public TemplateException Fail() => new(Hint);
}

/// <summary>
/// Jinja2's <c>Markup</c>, made by <c>|safe</c> and <c>|escape</c>: with autoescape off (as transformers renders) it
/// differs from its text only in <c>+</c> and <c>*</c>, where a plain string joined to it is HTML-escaped first;
/// everywhere else the interpreter sees its text.
/// </summary>
internal sealed class Markup(string text)
{
    public string Text { get; } = text;

    public static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&#34;", StringComparison.Ordinal).Replace("'", "&#39;", StringComparison.Ordinal);
}

/// <summary>Python's int arithmetic: 64-bit while it fits, arbitrary precision beyond.</summary>
internal static class PyInt
{
    public static object Normalize(BigInteger value) => value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
}

/// <summary>A Python tuple (tuple literals, <c>dict.items()</c> pairs, <c>varargs</c>).</summary>
internal sealed class PyTuple(IList<object?> items) : ReadOnlyCollection<object?>(items);

/// <summary><c>dict.keys()</c>, <c>values()</c> or <c>items()</c>: iterable and sized, printed as Python prints views.</summary>
internal sealed class DictView(string kind, IList<object?> items) : ReadOnlyCollection<object?>(items)
{
    public string Kind { get; } = kind;
}

/// <summary>A <c>range(...)</c>.</summary>
internal sealed class RangeValue(long start, long stop, long step, IList<object?> items) : ReadOnlyCollection<object?>(items)
{
    public string Describe() => step == 1 ? $"range({start}, {stop})" : $"range({start}, {stop}, {step})";
}

/// <summary>
/// A lazy one-shot iterator, as Jinja2's <c>map</c>, <c>select</c>, <c>reverse</c> ... return: truthy even when
/// empty, without a length, exhausted after one pass. Templates turn them into lists with <c>|list</c>.
/// </summary>
internal sealed class Generator(IEnumerable<object?> source, string kind)
{
    private readonly IEnumerator<object?> _items = source.GetEnumerator();

    public string Kind { get; } = kind;

    public IEnumerable<object?> Consume()
    {
        while (_items.MoveNext()) yield return _items.Current;
    }
}

/// <summary>Jinja2's <c>namespace(...)</c>: the one object whose attributes <c>{% set ns.x = ... %}</c> may change.</summary>
internal sealed class Namespace
{
    public OrderedDictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>The <c>loop</c> variable of a for loop.</summary>
internal sealed class LoopContext(IReadOnlyList<object?> items)
{
    private object? _lastChanged = Undefined.Named("changed");

    /// <summary>The current iteration, 0-based; one context serves the whole loop (<c>loop.changed</c> remembers).</summary>
    public int Index0 { get; set; }

    public int Length => items.Count;

    public object? Member(string name) => name switch
    {
        "index" => (long)(Index0 + 1),
        "index0" => (long)Index0,
        "revindex" => (long)(Length - Index0),
        "revindex0" => (long)(Length - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == Length - 1,
        "length" => (long)Length,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => Index0 < Length - 1 ? items[Index0 + 1] : new Undefined("there is no next item"),
        "cycle" => new BuiltinFunction("loop.cycle", args =>
        {
            if (args.Positional.Count == 0) throw new TemplateException("no items for cycling given");
            return args.Positional[Index0 % args.Positional.Count];
        }),
        "changed" => new BuiltinFunction("loop.changed", args =>
        {
            object value = new PyTuple(args.Positional.ToArray());
            if (Values.Equal(value, _lastChanged)) return false;
            _lastChanged = value;
            return true;
        }),
        _ => Undefined.Attribute(this, name),
    };
}

/// <summary>The arguments of a call: positional, then keyword in the order written.</summary>
internal sealed class Arguments(List<object?> positional, List<KeyValuePair<string, object?>> keywords)
{
    public static readonly Arguments None = new([], []);

    public List<object?> Positional { get; } = positional;

    public List<KeyValuePair<string, object?>> Keywords { get; } = keywords;

    /// <summary>These arguments with Markup values replaced by their text.</summary>
    public Arguments Plain() => new(Positional.Select(Values.Plain).ToList(), Keywords.Select(kv => new KeyValuePair<string, object?>(kv.Key, Values.Plain(kv.Value))).ToList());

    /// <summary>
    /// Binds to a Python signature: <paramref name="names"/> in order, the first <paramref name="required"/> of them
    /// required, the others defaulting to <paramref name="defaults"/> (aligned to the end). Fails as Python does on a
    /// missing, repeated or unknown argument.
    /// </summary>
    public object?[] Bind(string function, string[] names, int required = 0, params object?[] defaults)
    {
        if (Positional.Count > names.Length) throw new TemplateException($"{function}() takes at most {names.Length} argument(s) ({Positional.Count} given)");
        var values = new object?[names.Length];
        var set = new bool[names.Length];
        for (int i = 0; i < Positional.Count; i++)
        {
            values[i] = Positional[i];
            set[i] = true;
        }
        foreach (var (key, value) in Keywords)
        {
            int i = Array.IndexOf(names, key);
            if (i < 0) throw new TemplateException($"{function}() got an unexpected keyword argument '{key}'");
            if (set[i]) throw new TemplateException($"{function}() got multiple values for argument '{key}'");
            values[i] = value;
            set[i] = true;
        }
        for (int i = 0; i < names.Length; i++)
        {
            if (set[i]) continue;
            if (i < required) throw new TemplateException($"{function}() missing required argument '{names[i]}'");
            values[i] = defaults[i - (names.Length - defaults.Length)];
        }
        return values;
    }
}

/// <summary>Something a template can call.</summary>
internal abstract class Callable
{
    public abstract string Name { get; }

    public abstract object? Call(Arguments args);
}

/// <summary>A function implemented here: range, dict, namespace, raise_exception, strftime_now, loop.cycle ...</summary>
internal sealed class BuiltinFunction(string name, Func<Arguments, object?> body) : Callable
{
    public override string Name { get; } = name;

    public override object? Call(Arguments args) => body(args);
}

/// <summary>A method looked up on a value (<c>content.strip</c>), called later.</summary>
internal sealed class BoundMethod(object target, string name) : Callable
{
    public object Target { get; } = target;

    public override string Name { get; } = name;

    public override object? Call(Arguments args) => Methods.Call(Target, Name, args.Plain());
}
