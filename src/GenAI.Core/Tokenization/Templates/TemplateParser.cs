using System.Runtime.CompilerServices;

namespace GenAI.Core.Tokenization.Templates;

/// <summary>
/// Parses template tokens into statements and expressions with Jinja2's grammar and precedence: <c>or</c>,
/// <c>and</c>, <c>not</c>, comparisons (<c>in</c>, <c>not in</c>, chained), <c>+ -</c>, <c>~</c>,
/// <c>* / // %</c>, <c>**</c>, unary <c>- +</c>, then primaries with subscripts, calls, filters and tests (so
/// <c>-x|abs</c> filters the negated value and <c>a ~ b is string</c> tests only <c>b</c>). Tags:
/// if/elif/else, for (with <c>if</c> filter and <c>else</c>), set (also block and namespace attribute), macro,
/// call, filter, with, break, continue, generation, print; anything else (include, extends, block, import, ...)
/// fails naming the tag. Unknown filters and tests fail here too, as they do when Jinja2 compiles.
/// </summary>
internal sealed class TemplateParser
{
    private static readonly HashSet<string> CompareOperators = ["==", "!=", "<", "<=", ">", ">="];

    private readonly List<Token> _tokens;
    private int _position;
    private int _loopDepth;
    private readonly Stack<HashSet<string>> _macroNames = new();

    private TemplateParser(List<Token> tokens) => _tokens = tokens;

    public static List<Node> Parse(string source)
    {
        var parser = new TemplateParser(TemplateLexer.Tokenize(source));
        var nodes = parser.Body([], out _);
        return nodes;
    }

    private Token Current => _tokens[_position];

    private Token Peek(int ahead = 1) => _tokens[Math.Min(_position + ahead, _tokens.Count - 1)];

    private Token Next() => _tokens[_position++];

    private TemplateException Error(string message, Token? at = null) => new(message, (at ?? Current).Line);

    private bool SkipOperator(string op)
    {
        if (!Current.IsOperator(op)) return false;
        _position++;
        return true;
    }

    private bool SkipName(string name)
    {
        if (!Current.IsName(name)) return false;
        _position++;
        return true;
    }

    private void ExpectOperator(string op)
    {
        if (!SkipOperator(op)) throw Error($"expected '{op}', got {Current.Describe()}");
    }

    private Token ExpectName()
    {
        if (Current.Kind != TokenKind.Name) throw Error($"expected a name, got {Current.Describe()}");
        return Next();
    }

    private void ExpectBlockEnd()
    {
        if (Current.Kind != TokenKind.BlockEnd) throw Error($"expected end of statement block, got {Current.Describe()}");
        _position++;
    }

    // ---- statements ----

    /// <summary>Statements up to one of the <paramref name="ends"/> tags (left unconsumed after its name), or the end.</summary>
    private List<Node> Body(string[] ends, out string? end)
    {
        using var nesting = NestingGuard.Enter();
        var nodes = new List<Node>();
        while (true)
        {
            var token = Current;
            switch (token.Kind)
            {
                case TokenKind.Data:
                    _position++;
                    nodes.Add(new TextNode(token.Line, token.Text));
                    break;
                case TokenKind.VariableBegin:
                    _position++;
                    var expression = Tuple(withCondition: true);
                    if (Current.Kind != TokenKind.VariableEnd) throw Error($"expected end of print statement, got {Current.Describe()}");
                    _position++;
                    nodes.Add(new OutputNode(token.Line, expression));
                    break;
                case TokenKind.BlockBegin:
                    _position++;
                    var tag = Current;
                    if (tag.Kind != TokenKind.Name) throw Error("tag name expected");
                    if (ends.Contains(tag.Text))
                    {
                        _position++;
                        end = tag.Text;
                        return nodes;
                    }
                    if (Statement(tag) is { } node) nodes.Add(node);
                    break;
                case TokenKind.End:
                    if (ends.Length > 0) throw Error($"unexpected end of template: missing {{% {ends.FirstOrDefault(e => e.StartsWith("end", StringComparison.Ordinal)) ?? ends[^1]} %}}");
                    end = null;
                    return nodes;
                default:
                    throw Error($"unexpected {token.Describe()}");
            }
        }
    }

    private List<Node> BodyUntil(string endTag)
    {
        var body = Body([endTag], out _);
        ExpectBlockEnd();
        return body;
    }

    private Node? Statement(Token tag)
    {
        _position++;
        int line = tag.Line;
        switch (tag.Text)
        {
            case "if":
                return If(line);
            case "for":
                return For(line);
            case "set":
                return Set(line);
            case "macro":
                return MacroDefinition(line);
            case "call":
                return CallBlock(line);
            case "filter":
            {
                var filters = FilterChain();
                ExpectBlockEnd();
                return new FilterBlockNode(line, filters, BodyUntil("endfilter"));
            }
            case "with":
            {
                var assignments = new List<(Target, Expr)>();
                while (Current.Kind != TokenKind.BlockEnd)
                {
                    if (assignments.Count > 0) ExpectOperator(",");
                    var target = AssignTarget();
                    ExpectOperator("=");
                    assignments.Add((target, Expression()));
                }
                ExpectBlockEnd();
                return new ScopeNode(line, assignments, BodyUntil("endwith"));
            }
            case "generation":
                // transformers' AssistantTracker: the body renders as it is (it only records where it went).
                ExpectBlockEnd();
                return new ScopeNode(line, [], BodyUntil("endgeneration"));
            case "break" or "continue":
                if (_loopDepth == 0) throw Error($"'{tag.Text}' outside of a loop", tag);
                ExpectBlockEnd();
                return new LoopControlNode(line, tag.Text == "break" ? Flow.Break : Flow.Continue);
            case "print":
            {
                var value = Tuple(withCondition: true);
                ExpectBlockEnd();
                return new OutputNode(line, value);
            }
            default:
                throw Error($"unsupported tag {{% {tag.Text} %}}", tag);
        }
    }

    private IfNode If(int line)
    {
        var branches = new List<(Expr?, List<Node>)>();
        Expr? condition = Tuple(withCondition: false);
        while (true)
        {
            ExpectBlockEnd();
            var body = Body(["elif", "else", "endif"], out string? end);
            branches.Add((condition, body));
            if (end == "elif")
            {
                condition = Tuple(withCondition: false);
                continue;
            }
            if (end == "else")
            {
                ExpectBlockEnd();
                branches.Add((null, BodyUntil("endif")));
                return new IfNode(line, branches);
            }
            ExpectBlockEnd();
            return new IfNode(line, branches);
        }
    }

    private ForNode For(int line)
    {
        var target = AssignTarget(extraEnd: "in");
        if (!SkipName("in")) throw Error($"expected 'in', got {Current.Describe()}");
        var source = Tuple(withCondition: false, extraEnd: "recursive");
        Expr? filter = SkipName("if") ? Expression() : null;
        if (Current.IsName("recursive")) throw Error("unsupported recursive for loop");
        ExpectBlockEnd();
        _loopDepth++;
        var body = Body(["endfor", "else"], out string? end);
        _loopDepth--;
        List<Node>? otherwise = null;
        ExpectBlockEnd();
        if (end == "else") otherwise = BodyUntil("endfor");
        return new ForNode(line, target, source, filter, body, otherwise);
    }

    private Node Set(int line)
    {
        var target = AssignTarget(withNamespace: true);
        if (SkipOperator("="))
        {
            var value = Tuple(withCondition: true);
            ExpectBlockEnd();
            return new SetNode(line, target, value);
        }
        var filters = Current.IsOperator("|") ? FilterChain(leadingPipe: true) : [];
        ExpectBlockEnd();
        return new SetBlockNode(line, target, filters, BodyUntil("endset"));
    }

    private MacroNode MacroDefinition(int line)
    {
        string name = ExpectName().Text;
        var parameters = Parameters();
        ExpectBlockEnd();
        var (body, uses) = MacroBody("endmacro");
        return new MacroNode(line, name, parameters, body, uses);
    }

    private List<(string, Expr?)> Parameters()
    {
        var parameters = new List<(string, Expr?)>();
        ExpectOperator("(");
        while (!SkipOperator(")"))
        {
            if (parameters.Count > 0) ExpectOperator(",");
            if (SkipOperator(")")) break;
            string name = ExpectName().Text;
            parameters.Add((name, SkipOperator("=") ? Expression() : null));
        }
        return parameters;
    }

    // A macro body, noting which implicit variables (caller, varargs, kwargs) it names.
    private (List<Node> Body, MacroUses Uses) MacroBody(string endTag)
    {
        _macroNames.Push([]);
        int loops = _loopDepth;
        _loopDepth = 0;
        var body = BodyUntil(endTag);
        _loopDepth = loops;
        var names = _macroNames.Pop();
        var uses = (names.Contains("caller") ? MacroUses.Caller : 0) | (names.Contains("varargs") ? MacroUses.Varargs : 0)
            | (names.Contains("kwargs") ? MacroUses.Kwargs : 0);
        return (body, uses);
    }

    private CallBlockNode CallBlock(int line)
    {
        var parameters = Current.IsOperator("(") ? Parameters() : [];
        if (Expression() is not CallExpr call) throw Error("expected a macro call after {% call %}");
        ExpectBlockEnd();
        var (body, uses) = MacroBody("endcall");
        return new CallBlockNode(line, call, new MacroNode(line, "caller", parameters, body, uses));
    }

    private Target AssignTarget(string? extraEnd = null, bool withNamespace = false)
    {
        if (withNamespace && Current.Kind == TokenKind.Name && Peek().IsOperator("."))
        {
            string name = Next().Text;
            _position++;
            return new NamespaceTarget(name, ExpectName().Text);
        }
        var items = new List<Target>();
        bool isTuple = false;
        while (true)
        {
            if (items.Count > 0) ExpectOperator(",");
            if (Current.Kind is TokenKind.BlockEnd || (Current.Kind == TokenKind.Operator && Current.Text is "=" or ")") || (extraEnd is not null && Current.IsName(extraEnd))) break;
            items.Add(SimpleTarget());
            if (Current.IsOperator(",")) isTuple = true;
            else break;
        }
        if (items.Count == 0) throw Error($"expected an assignment target, got {Current.Describe()}");
        return isTuple ? new TupleTarget(items) : items[0];
    }

    private Target SimpleTarget()
    {
        if (SkipOperator("("))
        {
            var inner = AssignTarget();
            ExpectOperator(")");
            return inner;
        }
        var name = ExpectName();
        if (name.Text is "true" or "false" or "none" or "True" or "False" or "None") throw Error($"can't assign to '{name.Text}'", name);
        return new NameTarget(name.Text);
    }

    // ---- expressions ----

    private bool IsTupleEnd(string? extraEnd) =>
        Current.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd or TokenKind.End || Current.IsOperator(")")
        || (extraEnd is not null && Current.IsName(extraEnd));

    /// <summary>An expression, or several separated by commas (a tuple), as in <c>{{ a, b }}</c> or <c>{% set t = 1, 2 %}</c>.</summary>
    private Expr Tuple(bool withCondition, string? extraEnd = null, bool explicitParentheses = false)
    {
        int line = Current.Line;
        var items = new List<Expr>();
        bool isTuple = false;
        while (true)
        {
            if (items.Count > 0) ExpectOperator(",");
            if (IsTupleEnd(extraEnd)) break;
            items.Add(Expression(withCondition));
            if (Current.IsOperator(",")) isTuple = true;
            else break;
        }
        if (!isTuple)
        {
            if (items.Count > 0) return items[0];
            if (!explicitParentheses) throw Error($"expected an expression, got {Current.Describe()}");
        }
        return new TupleExpr(line, items);
    }

    private Expr Expression(bool withCondition = true) => withCondition ? Conditional() : Or();

    private Expr Conditional()
    {
        var value = Or();
        while (Current.IsName("if"))
        {
            int line = Next().Line;
            var test = Or();
            Expr? otherwise = SkipName("else") ? Conditional() : null;
            value = new ConditionalExpr(line, test, value, otherwise);
        }
        return value;
    }

    private Expr Or()
    {
        var left = And();
        while (Current.IsName("or"))
        {
            int line = Next().Line;
            left = new OrExpr(line, left, And());
        }
        return left;
    }

    private Expr And()
    {
        var left = Not();
        while (Current.IsName("and"))
        {
            int line = Next().Line;
            left = new AndExpr(line, left, Not());
        }
        return left;
    }

    private Expr Not()
    {
        if (Current.IsName("not"))
        {
            int line = Next().Line;
            return new NotExpr(line, Not());
        }
        return Compare();
    }

    private Expr Compare()
    {
        int line = Current.Line;
        var first = Additive();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && CompareOperators.Contains(Current.Text))
            {
                string op = Next().Text;
                rest.Add((op, Additive()));
            }
            else if (SkipName("in"))
            {
                rest.Add(("in", Additive()));
            }
            else if (Current.IsName("not") && Peek().IsName("in"))
            {
                _position += 2;
                rest.Add(("notin", Additive()));
            }
            else
            {
                break;
            }
        }
        return rest.Count == 0 ? first : new CompareExpr(line, first, rest);
    }

    private Expr Additive()
    {
        var left = Concat();
        while (Current.Kind == TokenKind.Operator && Current.Text is "+" or "-")
        {
            var op = Next();
            left = new BinaryExpr(op.Line, op.Text, left, Concat());
        }
        return left;
    }

    private Expr Concat()
    {
        int line = Current.Line;
        var parts = new List<Expr> { Multiplicative() };
        while (SkipOperator("~")) parts.Add(Multiplicative());
        return parts.Count == 1 ? parts[0] : new ConcatExpr(line, parts);
    }

    private Expr Multiplicative()
    {
        var left = Power();
        while (Current.Kind == TokenKind.Operator && Current.Text is "*" or "/" or "//" or "%")
        {
            var op = Next();
            left = new BinaryExpr(op.Line, op.Text, left, Power());
        }
        return left;
    }

    private Expr Power()
    {
        var left = Unary(withFilter: true);
        while (Current.IsOperator("**"))
        {
            var op = Next();
            left = new BinaryExpr(op.Line, "**", left, Unary(withFilter: true));
        }
        return left;
    }

    private Expr Unary(bool withFilter)
    {
        using var nesting = NestingGuard.Enter();
        Expr node;
        if (Current.Kind == TokenKind.Operator && Current.Text is "-" or "+")
        {
            var op = Next();
            node = new NegateExpr(op.Line, Unary(withFilter: false), op.Text == "-");
        }
        else
        {
            node = Primary();
        }
        node = Postfix(node);
        return withFilter ? FilterTests(node) : node;
    }

    private Expr Primary()
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.Name:
                _position++;
                return token.Text switch
                {
                    "true" or "True" => new LiteralExpr(token.Line, true),
                    "false" or "False" => new LiteralExpr(token.Line, false),
                    "none" or "None" => new LiteralExpr(token.Line, null),
                    _ => Named(token),
                };
            case TokenKind.String:
            {
                _position++;
                string text = (string)token.Value!;
                while (Current.Kind == TokenKind.String) text += (string)Next().Value!; // adjacent literals join, as in Python
                return new LiteralExpr(token.Line, text);
            }
            case TokenKind.Integer or TokenKind.Float:
                _position++;
                return new LiteralExpr(token.Line, token.Value);
            case TokenKind.Operator when token.Text == "(":
            {
                _position++;
                var inner = Tuple(withCondition: true, explicitParentheses: true);
                ExpectOperator(")");
                return inner;
            }
            case TokenKind.Operator when token.Text == "[":
            {
                _position++;
                var items = new List<Expr>();
                while (!SkipOperator("]"))
                {
                    if (items.Count > 0) ExpectOperator(",");
                    if (SkipOperator("]")) break;
                    items.Add(Expression());
                }
                return new ListExpr(token.Line, items);
            }
            case TokenKind.Operator when token.Text == "{":
            {
                _position++;
                var entries = new List<(Expr, Expr)>();
                while (!SkipOperator("}"))
                {
                    if (entries.Count > 0) ExpectOperator(",");
                    if (SkipOperator("}")) break;
                    var key = Expression();
                    ExpectOperator(":");
                    entries.Add((key, Expression()));
                }
                return new DictExpr(token.Line, entries);
            }
            default:
                throw Error($"unexpected {token.Describe()}");
        }
    }

    private NameExpr Named(Token token)
    {
        if (_macroNames.Count > 0) _macroNames.Peek().Add(token.Text);
        return new NameExpr(token.Line, token.Text);
    }

    private Expr Postfix(Expr node)
    {
        while (true)
        {
            if (Current.IsOperator(".") || Current.IsOperator("["))
            {
                node = Subscript(node);
            }
            else if (Current.IsOperator("("))
            {
                int line = Current.Line;
                node = new CallExpr(line, node, CallArguments());
            }
            else
            {
                return node;
            }
        }
    }

    private Expr FilterTests(Expr node)
    {
        while (true)
        {
            if (Current.IsOperator("|"))
            {
                node = Filter(node);
            }
            else if (Current.IsName("is"))
            {
                node = Test(node);
            }
            else if (Current.IsOperator("("))
            {
                int line = Current.Line;
                node = new CallExpr(line, node, CallArguments());
            }
            else
            {
                return node;
            }
        }
    }

    private Expr Subscript(Expr node)
    {
        var token = Next();
        if (token.Text == ".")
        {
            var attribute = Next();
            if (attribute.Kind == TokenKind.Name) return new AttributeExpr(token.Line, node, attribute.Text);
            if (attribute.Kind == TokenKind.Integer) return new ItemExpr(token.Line, node, new LiteralExpr(attribute.Line, attribute.Value));
            throw Error("expected name or number", attribute);
        }
        var keys = new List<Expr>();
        while (!Current.IsOperator("]"))
        {
            if (keys.Count > 0) ExpectOperator(",");
            keys.Add(Subscribed());
        }
        _position++;
        if (keys.Count == 0) throw Error("expected a subscript", token);
        return new ItemExpr(token.Line, node, keys.Count == 1 ? keys[0] : new TupleExpr(token.Line, keys));
    }

    private Expr Subscribed()
    {
        int line = Current.Line;
        Expr? start = null;
        if (!Current.IsOperator(":"))
        {
            start = Expression();
            if (!Current.IsOperator(":")) return start;
        }
        _position++; // ':'
        bool ends() => Current.IsOperator("]") || Current.IsOperator(",");
        Expr? stop = Current.IsOperator(":") || ends() ? null : Expression();
        Expr? step = null;
        if (SkipOperator(":") && !ends()) step = Expression();
        return new SliceExpr(line, start, stop, step);
    }

    private ArgumentList CallArguments()
    {
        var open = Current;
        ExpectOperator("(");
        var positional = new List<Expr>();
        var keywords = new List<(string, Expr)>();
        Expr? spread = null, spreadKeywords = null;
        bool comma = false;
        while (!Current.IsOperator(")"))
        {
            if (comma)
            {
                ExpectOperator(",");
                if (Current.IsOperator(")")) break;
            }
            if (SkipOperator("*"))
            {
                if (spread is not null || spreadKeywords is not null) throw Error("invalid syntax for function call expression", open);
                spread = Expression();
            }
            else if (SkipOperator("**"))
            {
                if (spreadKeywords is not null) throw Error("invalid syntax for function call expression", open);
                spreadKeywords = Expression();
            }
            else if (Current.Kind == TokenKind.Name && Peek().IsOperator("="))
            {
                if (spreadKeywords is not null) throw Error("invalid syntax for function call expression", open);
                string key = Next().Text;
                _position++;
                keywords.Add((key, Expression()));
            }
            else
            {
                if (spread is not null || spreadKeywords is not null || keywords.Count > 0) throw Error("positional argument follows keyword argument", open);
                positional.Add(Expression());
            }
            comma = true;
        }
        _position++;
        return new ArgumentList(positional, keywords, spread, spreadKeywords);
    }

    private FilterExpr Filter(Expr? target)
    {
        var pipe = Current;
        if (pipe.IsOperator("|")) _position++;
        var name = ExpectName();
        string filterName = name.Text;
        while (Current.IsOperator(".") && Peek().Kind == TokenKind.Name)
        {
            _position++;
            filterName += "." + Next().Text;
        }
        if (!Filters.TryGet(filterName, out var filter)) throw Error($"unsupported filter '{filterName}'", name);
        var args = Current.IsOperator("(") ? CallArguments() : ArgumentList.Empty;
        return new FilterExpr(name.Line, target, filterName, filter, args);
    }

    // The filters of a {% filter %} or {% set x | f %} block: applied to the block's text, in order.
    private List<FilterExpr> FilterChain(bool leadingPipe = false)
    {
        var filters = new List<FilterExpr>();
        if (!leadingPipe) filters.Add(Filter(null));
        while (Current.IsOperator("|")) filters.Add(Filter(null));
        return filters;
    }

    private Expr Test(Expr node)
    {
        int line = Next().Line; // 'is'
        bool negated = SkipName("not");
        var name = ExpectName();
        string testName = name.Text;
        while (Current.IsOperator(".") && Peek().Kind == TokenKind.Name)
        {
            _position++;
            testName += "." + Next().Text;
        }
        if (!Predicates.TryGet(testName, out var test)) throw Error($"unsupported test 'is {testName}'", name);
        ArgumentList args;
        if (Current.IsOperator("("))
        {
            args = CallArguments();
        }
        else if ((Current.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
                     || (Current.Kind == TokenKind.Operator && Current.Text is "[" or "{"))
                 && !Current.IsName("else") && !Current.IsName("or") && !Current.IsName("and"))
        {
            if (Current.IsName("is")) throw Error("You cannot chain multiple tests with is");
            args = new ArgumentList([Postfix(Primary())], [], null, null);
        }
        else
        {
            args = ArgumentList.Empty;
        }
        Expr result = new TestExpr(line, node, test, args);
        return negated ? new NotExpr(line, result) : result;
    }
}
