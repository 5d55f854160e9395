using System.Globalization;
using System.Text;

namespace GenAI.Core.Tokenization.Templates;

/// <summary>
/// A Jinja2 template, run as transformers runs chat templates: Python Jinja2 semantics in an immutable sandbox,
/// <c>trim_blocks</c> and <c>lstrip_blocks</c> on, <c>{% break %}</c>/<c>{% continue %}</c> and
/// <c>{% generation %}</c> available, <c>tojson</c> as <c>json.dumps(ensure_ascii=False)</c>, and Jinja2's
/// default undefined (printing nothing; failing when used otherwise).
/// </summary>
/// <remarks>
/// Supported: output, comments, raw, whitespace control; if/elif/else, for (tuple targets, <c>if</c> filter, else,
/// the <c>loop</c> variable with previtem/nextitem/cycle/changed), set (expression, block, <c>ns.attr</c>), macro
/// (defaults, varargs, kwargs, caller), call, filter and with blocks; literals (strings with Python escapes,
/// ints, floats, lists, tuples, string-keyed dicts), every Jinja operator, slices with steps, the built-in
/// filters and tests chat templates use, Python's str/dict/list methods, and the globals <c>range</c>,
/// <c>dict</c> and <c>namespace</c>. A construct outside this set fails with a <see cref="TemplateException"/>
/// naming it, at <see cref="Parse"/> where Jinja2 would fail at compile time, otherwise at render.
/// </remarks>
public sealed class JinjaTemplate
{
    private static readonly IReadOnlyDictionary<string, object?> Globals = new Dictionary<string, object?>(StringComparer.Ordinal)
    {
        ["range"] = new BuiltinFunction("range", Range),
        ["dict"] = new BuiltinFunction("dict", args =>
        {
            var d = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
            if (args.Positional.Count > 1) throw new TemplateException("dict expected at most 1 argument");
            if (args.Positional.Count == 1)
            {
                if (args.Positional[0] is not IDictionary<string, object?> source) throw new TemplateException("dict() of a non-mapping is not supported");
                foreach (var (key, value) in source) d[key] = value;
            }
            foreach (var (key, value) in args.Keywords) d[key] = value;
            return d;
        }),
        ["namespace"] = new BuiltinFunction("namespace", args =>
        {
            var ns = new Namespace();
            foreach (var value in args.Positional)
            {
                if (value is not IDictionary<string, object?> initial) throw new TemplateException("namespace() takes keyword arguments or a mapping");
                foreach (var (key, item) in initial) ns.Attributes[key] = item;
            }
            foreach (var (key, value) in args.Keywords) ns.Attributes[key] = value;
            return ns;
        }),
    };

    /// <summary>
    /// The most characters a render may write, and the longest string (in characters) or sequence (in items) a
    /// template may build: beyond it rendering fails with a <see cref="TemplateException"/> instead of allocating
    /// gigabytes on a request thread (Python would raise MemoryError, or take as long).
    /// </summary>
    public const int MaxOutputLength = 16 * 1024 * 1024;

    private readonly List<Node> _nodes;

    private JinjaTemplate(List<Node> nodes) => _nodes = nodes;

    /// <summary>Throws when <paramref name="what"/> would be <paramref name="length"/> long, over <see cref="MaxOutputLength"/>.</summary>
    internal static void CheckLength(long length, string what)
    {
        if (length > MaxOutputLength)
        {
            throw new TemplateException(string.Create(CultureInfo.InvariantCulture,
                $"{what} would be {length:N0} long, over the template limit of {MaxOutputLength:N0} characters (or items)"));
        }
    }

    /// <summary>Parses <paramref name="source"/>; throws <see cref="TemplateException"/> for a syntax error or an unsupported construct.</summary>
    public static JinjaTemplate Parse(string source)
    {
        try
        {
            return new JinjaTemplate(TemplateParser.Parse(source));
        }
        catch (InsufficientExecutionStackException)
        {
            throw new TemplateException("the template nests too deeply");
        }
    }

    /// <summary>
    /// Renders with <paramref name="variables"/>: strings, numbers, booleans, null, <c>System.Text.Json</c> nodes or
    /// elements, dictionaries with string keys and sequences (converted to Python-like values; JSON numbers with a
    /// fraction or exponent become floats). Throws <see cref="TemplateException"/> where Jinja2 would raise, and
    /// <see cref="TemplateRaisedException"/> when the template calls a <c>raise_exception</c> given here.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        var state = new RenderState();
        var globals = new Frame(null, state);
        foreach (var (name, value) in Globals) globals.Assign(name, value);
        var root = globals.Child();
        foreach (var (name, value) in variables) root.Assign(name, Values.Import(value));
        var output = new StringBuilder();
        try
        {
            Node.ExecuteAll(_nodes, root, output);
        }
        catch (InsufficientExecutionStackException)
        {
            throw new TemplateException("the template recursed too deeply");
        }
        return output.ToString();
    }

    /// <summary>A function templates can call, for variables such as transformers' <c>raise_exception</c> and <c>strftime_now</c>.</summary>
    internal static object Function(string name, Func<IReadOnlyList<object?>, object?> body) =>
        new BuiltinFunction(name, args =>
        {
            if (args.Keywords.Count > 0) throw new TemplateException($"{name}() takes no keyword arguments");
            return Values.Import(body(args.Positional));
        });

    // range() as the sandbox allows it: at most 100000 items.
    private static object Range(Arguments args)
    {
        var a = args.Positional.Select(v => Values.ToLong(v, "range() argument")).ToArray();
        if (args.Keywords.Count > 0 || a.Length is 0 or > 3) throw new TemplateException("range expected 1 to 3 integer arguments");
        long start = a.Length == 1 ? 0 : a[0], stop = a.Length == 1 ? a[0] : a[1], step = a.Length == 3 ? a[2] : 1;
        if (step == 0) throw new TemplateException("range() arg 3 must not be zero");
        var items = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (items.Count >= 100_000) throw new TemplateException("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
            items.Add(i);
        }
        return new RangeValue(start, stop, step, items);
    }
}
