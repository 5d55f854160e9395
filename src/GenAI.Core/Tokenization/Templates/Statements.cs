using System.Runtime.CompilerServices;
using System.Text;

namespace GenAI.Core.Tokenization.Templates;

/// <summary>
/// A scope of variables. As in Jinja2: each for-loop iteration, macro call, <c>with</c> block and call block gets
/// its own frame (a <c>{% set %}</c> inside stays there), <c>if</c> blocks do not; lookups fall through to the
/// enclosing frames, then to the globals.
/// </summary>
internal sealed class Frame(Frame? parent, RenderState state)
{
    private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);

    public RenderState State { get; } = state;

    public Frame Child() => new(this, State);

    public object? Lookup(string name)
    {
        for (var frame = this; frame is not null; frame = frame.Parent)
        {
            if (frame._variables.TryGetValue(name, out var value)) return value;
        }
        return Undefined.Named(name);
    }

    public Frame? Parent { get; } = parent;

    public void Assign(string name, object? value) => _variables[name] = value;
}

/// <summary>What one render shares across frames: the macro call depth, so runaway recursion fails cleanly.</summary>
internal sealed class RenderState
{
    public const int MaxCallDepth = 200;

    public int CallDepth { get; set; }
}

internal enum Flow
{
    Normal,
    Break,
    Continue,
}

/// <summary>A parsed template statement.</summary>
internal abstract class Node(int line)
{
    public int Line { get; } = line;

    public Flow Execute(Frame frame, StringBuilder output)
    {
        using var nesting = NestingGuard.Enter(); // deep recursion fails as a template error, not a crash
        try
        {
            return Run(frame, output);
        }
        catch (TemplateException e) when (e.Line is null)
        {
            throw e.AtLine(Line);
        }
    }

    protected abstract Flow Run(Frame frame, StringBuilder output);

    public static Flow ExecuteAll(List<Node> nodes, Frame frame, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            var flow = node.Execute(frame, output);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    /// <summary>Appends to a render's output (or a captured block), within <see cref="JinjaTemplate.MaxOutputLength"/>.</summary>
    protected static void Write(StringBuilder output, string text)
    {
        JinjaTemplate.CheckLength((long)output.Length + text.Length, "the rendered text");
        output.Append(text);
    }

    public static string Capture(List<Node> nodes, Frame frame)
    {
        var output = new StringBuilder();
        ExecuteAll(nodes, frame, output);
        return output.ToString();
    }
}

internal sealed class TextNode(int line, string text) : Node(line)
{
    protected override Flow Run(Frame frame, StringBuilder output)
    {
        Write(output, text);
        return Flow.Normal;
    }
}

internal sealed class OutputNode(int line, Expr expression) : Node(line)
{
    protected override Flow Run(Frame frame, StringBuilder output)
    {
        Write(output, PythonText.Str(expression.Evaluate(frame)));
        return Flow.Normal;
    }
}

internal sealed class IfNode(int line, List<(Expr? Condition, List<Node> Body)> branches) : Node(line)
{
    protected override Flow Run(Frame frame, StringBuilder output)
    {
        foreach (var (condition, body) in branches)
        {
            if (condition is null || Values.Truthy(condition.Evaluate(frame))) return ExecuteAll(body, frame, output);
        }
        return Flow.Normal;
    }
}

/// <summary>Where an assignment stores: a name, <c>ns.attribute</c>, or a tuple of targets to unpack into.</summary>
internal abstract class Target
{
    public abstract void Assign(Frame frame, object? value);
}

internal sealed class NameTarget(string name) : Target
{
    public override void Assign(Frame frame, object? value) => frame.Assign(name, value);
}

internal sealed class NamespaceTarget(string name, string attribute) : Target
{
    public override void Assign(Frame frame, object? value)
    {
        if (frame.Lookup(name) is not Namespace ns) throw new TemplateException("cannot assign attribute on non-namespace object");
        ns.Attributes[attribute] = value;
    }
}

internal sealed class TupleTarget(List<Target> items) : Target
{
    public override void Assign(Frame frame, object? value)
    {
        var values = Values.Iterate(value).ToList();
        if (values.Count < items.Count) throw new TemplateException($"not enough values to unpack (expected {items.Count}, got {values.Count})");
        if (values.Count > items.Count) throw new TemplateException($"too many values to unpack (expected {items.Count})");
        for (int i = 0; i < items.Count; i++) items[i].Assign(frame, values[i]);
    }
}

internal sealed class ForNode(int line, Target target, Expr source, Expr? filter, List<Node> body, List<Node>? otherwise) : Node(line)
{
    protected override Flow Run(Frame frame, StringBuilder output)
    {
        var all = Values.Iterate(source.Evaluate(frame));
        List<object?> items;
        if (filter is null)
        {
            items = all.ToList();
        }
        else
        {
            // The condition sees the loop variable, and loop.index / loop.length count only the items that pass it.
            items = [];
            foreach (var item in all)
            {
                var probe = frame.Child();
                target.Assign(probe, item);
                if (Values.Truthy(filter.Evaluate(probe))) items.Add(item);
            }
        }
        var loop = new LoopContext(items);
        for (int i = 0; i < items.Count; i++)
        {
            var iteration = frame.Child();
            loop.Index0 = i;
            iteration.Assign("loop", loop);
            target.Assign(iteration, items[i]);
            if (ExecuteAll(body, iteration, output) == Flow.Break) break;
        }
        if (items.Count == 0 && otherwise is not null) return ExecuteAll(otherwise, frame, output);
        return Flow.Normal;
    }
}

internal sealed class SetNode(int line, Target target, Expr value) : Node(line)
{
    protected override Flow Run(Frame frame, StringBuilder output)
    {
        target.Assign(frame, value.Evaluate(frame));
        return Flow.Normal;
    }
}

/// <summary><c>{% set x %}...{% endset %}</c>, optionally through filters (<c>{% set x | trim %}</c>).</summary>
internal sealed class SetBlockNode(int line, Target target, List<FilterExpr> filters, List<Node> body) : Node(line)
{
    protected override Flow Run(Frame frame, StringBuilder output)
    {
        object? value = Capture(body, frame);
        foreach (var filter in filters) value = filter.Apply(value, frame);
        target.Assign(frame, value);
        return Flow.Normal;
    }
}

/// <summary><c>{% filter f %}...{% endfilter %}</c>.</summary>
internal sealed class FilterBlockNode(int line, List<FilterExpr> filters, List<Node> body) : Node(line)
{
    protected override Flow Run(Frame frame, StringBuilder output)
    {
        object? value = Capture(body, frame.Child());
        foreach (var filter in filters) value = filter.Apply(value, frame);
        output.Append(PythonText.Str(value));
        return Flow.Normal;
    }
}

/// <summary>A body rendered in its own frame: <c>{% with %}</c> (after its assignments) and <c>{% generation %}</c>.</summary>
internal sealed class ScopeNode(int line, List<(Target Target, Expr Value)> assignments, List<Node> body) : Node(line)
{
    protected override Flow Run(Frame frame, StringBuilder output)
    {
        var scope = frame.Child();
        foreach (var (target, value) in assignments) target.Assign(scope, value.Evaluate(frame));
        return ExecuteAll(body, scope, output);
    }
}

internal sealed class LoopControlNode(int line, Flow flow) : Node(line)
{
    protected override Flow Run(Frame frame, StringBuilder output) => flow;
}

/// <summary>A <c>{% macro name(params) %}</c> definition: binds a <see cref="Macro"/> in the current frame.</summary>
internal sealed class MacroNode(int line, string name, List<(string Name, Expr? Default)> parameters, List<Node> body, MacroUses uses) : Node(line)
{
    public string Name { get; } = name;

    public List<(string Name, Expr? Default)> Parameters { get; } = parameters;

    public List<Node> Body { get; } = body;

    public MacroUses Uses { get; } = uses;

    protected override Flow Run(Frame frame, StringBuilder output)
    {
        frame.Assign(Name, new Macro(this, frame));
        return Flow.Normal;
    }
}

/// <summary>Which of Jinja2's implicit macro variables a macro body refers to (the others are refused as arguments).</summary>
[Flags]
internal enum MacroUses
{
    None = 0,
    Caller = 1,
    Varargs = 2,
    Kwargs = 4,
}

/// <summary>A defined macro; calling it renders its body with the arguments bound, and returns the text.</summary>
internal sealed class Macro(MacroNode node, Frame closure) : Callable
{
    public override string Name => node.Name;

    public override object? Call(Arguments args)
    {
        var frame = closure.Child();
        var parameters = node.Parameters;
        if (args.Positional.Count > parameters.Count && !node.Uses.HasFlag(MacroUses.Varargs))
        {
            throw new TemplateException($"macro '{Name}' takes not more than {parameters.Count} argument(s)");
        }
        var extra = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        var given = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in args.Keywords)
        {
            if (key == "caller" && node.Uses.HasFlag(MacroUses.Caller)) frame.Assign("caller", value);
            else if (parameters.Any(p => p.Name == key)) given[key] = value;
            else if (node.Uses.HasFlag(MacroUses.Kwargs)) extra[key] = value;
            else throw new TemplateException($"macro '{Name}' takes no keyword argument '{key}'");
        }
        for (int i = 0; i < parameters.Count; i++)
        {
            var (name, fallback) = parameters[i];
            if (i < args.Positional.Count)
            {
                if (given.ContainsKey(name)) throw new TemplateException($"macro '{Name}' got multiple values for argument '{name}'");
                frame.Assign(name, args.Positional[i]);
            }
            else if (given.TryGetValue(name, out var value))
            {
                frame.Assign(name, value);
            }
            else
            {
                frame.Assign(name, fallback is null ? new Undefined($"parameter '{name}' was not provided") : fallback.Evaluate(frame));
            }
        }
        if (node.Uses.HasFlag(MacroUses.Varargs)) frame.Assign("varargs", new PyTuple(args.Positional.Skip(parameters.Count).ToArray()));
        if (node.Uses.HasFlag(MacroUses.Kwargs)) frame.Assign("kwargs", extra);

        var state = closure.State;
        if (++state.CallDepth > RenderState.MaxCallDepth)
        {
            state.CallDepth = 0;
            throw new TemplateException($"macro '{Name}' recursed more than {RenderState.MaxCallDepth} levels deep");
        }
        try
        {
            return Node.Capture(node.Body, frame);
        }
        finally
        {
            state.CallDepth = Math.Max(0, state.CallDepth - 1);
        }
    }
}

/// <summary><c>{% call(params) macro(args) %}body{% endcall %}</c>: the macro gets the body as <c>caller</c>.</summary>
internal sealed class CallBlockNode(int line, CallExpr call, MacroNode caller) : Node(line)
{
    protected override Flow Run(Frame frame, StringBuilder output)
    {
        Write(output, PythonText.Str(call.EvaluateWithCaller(frame, new Macro(caller, frame))));
        return Flow.Normal;
    }
}
