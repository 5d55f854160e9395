namespace GenAI.Core.Tokenization.Templates;

/// <summary>A parsed Jinja expression; evaluating it follows Python's semantics (see <see cref="Values"/>).</summary>
internal abstract class Expr(int line)
{
    public int Line { get; } = line;

    public abstract object? Evaluate(Frame frame);
}

internal sealed class LiteralExpr(int line, object? value) : Expr(line)
{
    public object? Value { get; } = value;

    public override object? Evaluate(Frame frame) => Value;
}

internal sealed class NameExpr(int line, string name) : Expr(line)
{
    public string Name { get; } = name;

    public override object? Evaluate(Frame frame) => frame.Lookup(Name);
}

internal sealed class ListExpr(int line, List<Expr> items) : Expr(line)
{
    public List<Expr> Items { get; } = items;

    public override object? Evaluate(Frame frame) => Items.Select(i => i.Evaluate(frame)).ToList();
}

internal sealed class TupleExpr(int line, List<Expr> items) : Expr(line)
{
    public List<Expr> Items { get; } = items;

    public override object? Evaluate(Frame frame) => new PyTuple(Items.Select(i => i.Evaluate(frame)).ToArray());
}

internal sealed class DictExpr(int line, List<(Expr Key, Expr Value)> entries) : Expr(line)
{
    public override object? Evaluate(Frame frame)
    {
        var d = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in entries)
        {
            // Chat templates only ever key dicts by strings; other keys would print differently, so refuse them.
            if (Values.Plain(key.Evaluate(frame)) is not string k) throw new TemplateException("dict keys other than strings are not supported", Line);
            d[k] = value.Evaluate(frame);
        }
        return d;
    }
}

internal sealed class AttributeExpr(int line, Expr target, string name) : Expr(line)
{
    public override object? Evaluate(Frame frame) => Values.GetAttr(target.Evaluate(frame), name);
}

internal sealed class ItemExpr(int line, Expr target, Expr key) : Expr(line)
{
    public override object? Evaluate(Frame frame) => Values.GetItem(target.Evaluate(frame), key.Evaluate(frame));
}

internal sealed class SliceExpr(int line, Expr? start, Expr? stop, Expr? step) : Expr(line)
{
    public override object? Evaluate(Frame frame) => new Values.SliceKey(start?.Evaluate(frame), stop?.Evaluate(frame), step?.Evaluate(frame));
}

/// <summary>Call arguments as written: positional, keyword, and optional <c>*args</c> / <c>**kwargs</c>.</summary>
internal sealed class ArgumentList(List<Expr> positional, List<(string Name, Expr Value)> keywords, Expr? spread, Expr? spreadKeywords)
{
    public static readonly ArgumentList Empty = new([], [], null, null);

    public Arguments Evaluate(Frame frame)
    {
        var args = positional.Select(a => a.Evaluate(frame)).ToList();
        if (spread is not null) args.AddRange(Values.Iterate(spread.Evaluate(frame)));
        var named = keywords.Select(k => new KeyValuePair<string, object?>(k.Name, k.Value.Evaluate(frame))).ToList();
        if (spreadKeywords is not null)
        {
            if (spreadKeywords.Evaluate(frame) is not IDictionary<string, object?> extra) throw new TemplateException("argument after ** must be a mapping");
            named.AddRange(extra);
        }
        return new Arguments(args, named);
    }
}

internal sealed class CallExpr(int line, Expr target, ArgumentList arguments) : Expr(line)
{
    public Expr Target { get; } = target;

    public ArgumentList Arguments { get; } = arguments;

    public override object? Evaluate(Frame frame) => Values.Call(Target.Evaluate(frame), Arguments.Evaluate(frame));

    /// <summary>Calls the target with <paramref name="caller"/> as its <c>caller</c> keyword ({% call %}).</summary>
    public object? EvaluateWithCaller(Frame frame, Callable caller)
    {
        var args = Arguments.Evaluate(frame);
        args.Keywords.Add(new("caller", caller));
        return Values.Call(Target.Evaluate(frame), args);
    }
}

/// <summary><c>target | name(args)</c>; a null target is the text of a filter or set block, supplied by the caller.</summary>
internal sealed class FilterExpr(int line, Expr? target, string name, FilterFunction filter, ArgumentList arguments) : Expr(line)
{
    public Expr? Target { get; } = target;

    public override object? Evaluate(Frame frame) => Apply(Target!.Evaluate(frame), frame);

    private static readonly HashSet<string> MarkupAware = ["safe", "e", "escape", "forceescape"];

    public object? Apply(object? value, Frame frame)
    {
        var args = arguments.Evaluate(frame);
        if (!MarkupAware.Contains(name))
        {
            value = Values.Plain(value);
            args = args.Plain();
        }
        try
        {
            return filter(value, args);
        }
        catch (TemplateException e) when (e.Line is null && !e.Message.Contains(name, StringComparison.Ordinal))
        {
            throw new TemplateException($"filter '{name}': {e.Message}", Line);
        }
    }
}

internal sealed class TestExpr(int line, Expr target, TestFunction test, ArgumentList arguments) : Expr(line)
{
    public override object? Evaluate(Frame frame) => test(Values.Plain(target.Evaluate(frame)), arguments.Evaluate(frame).Plain());
}

internal sealed class NotExpr(int line, Expr operand) : Expr(line)
{
    public override object? Evaluate(Frame frame) => !Values.Truthy(operand.Evaluate(frame));
}

internal sealed class NegateExpr(int line, Expr operand, bool minus) : Expr(line)
{
    public override object? Evaluate(Frame frame) => Values.Negate(operand.Evaluate(frame), minus);
}

internal sealed class BinaryExpr(int line, string op, Expr left, Expr right) : Expr(line)
{
    public override object? Evaluate(Frame frame) => Values.Binary(op, left.Evaluate(frame), right.Evaluate(frame));
}

internal sealed class AndExpr(int line, Expr left, Expr right) : Expr(line)
{
    public override object? Evaluate(Frame frame) => left.Evaluate(frame) is var l && !Values.Truthy(l) ? l : right.Evaluate(frame);
}

internal sealed class OrExpr(int line, Expr left, Expr right) : Expr(line)
{
    public override object? Evaluate(Frame frame) => left.Evaluate(frame) is var l && Values.Truthy(l) ? l : right.Evaluate(frame);
}

/// <summary>A comparison chain, as Python evaluates <c>a &lt; b &lt; c</c>; <c>in</c> and <c>not in</c> included.</summary>
internal sealed class CompareExpr(int line, Expr first, List<(string Op, Expr Operand)> rest) : Expr(line)
{
    public override object? Evaluate(Frame frame)
    {
        object? left = first.Evaluate(frame);
        foreach (var (op, operand) in rest)
        {
            object? right = operand.Evaluate(frame);
            bool holds = op switch
            {
                "in" => Values.Contains(right, left),
                "notin" => !Values.Contains(right, left),
                _ => Values.Compare(op, left, right),
            };
            if (!holds) return false;
            left = right;
        }
        return true;
    }
}

/// <summary><c>a ~ b ~ c</c>: the <c>str()</c> of each, joined.</summary>
internal sealed class ConcatExpr(int line, List<Expr> parts) : Expr(line)
{
    public override object? Evaluate(Frame frame)
    {
        var texts = parts.Select(p => PythonText.Str(p.Evaluate(frame))).ToList();
        JinjaTemplate.CheckLength(texts.Sum(t => (long)t.Length), "a string");
        return string.Concat(texts);
    }
}

/// <summary><c>a if test else b</c>; without <c>else</c> a false test gives an undefined value.</summary>
internal sealed class ConditionalExpr(int line, Expr test, Expr then, Expr? otherwise) : Expr(line)
{
    public override object? Evaluate(Frame frame) =>
        Values.Truthy(test.Evaluate(frame)) ? then.Evaluate(frame)
        : otherwise is null ? new Undefined($"the inline if-expression on line {Line} evaluated to false and no else section was defined.")
        : otherwise.Evaluate(frame);
}
