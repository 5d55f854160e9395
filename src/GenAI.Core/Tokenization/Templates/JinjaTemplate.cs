using System.Globalization;
using System.Text;

namespace GenAI.Core.Tokenization.Templates;

/// <summary>A chat template that cannot be parsed or rendered; the message says where.</summary>
public sealed class TemplateException(string message) : Exception(message);

/// <summary>
/// The subset of Jinja2 that Hugging Face chat templates use: <c>{{ }}</c>, <c>{% if/elif/else %}</c>,
/// <c>{% for x in xs %}</c> (with <c>loop.index</c>, <c>loop.first</c>, <c>loop.last</c>, ...), <c>{% set %}</c>,
/// comments, whitespace control (<c>{%-</c>, <c>-%}</c>), literals, attribute and subscript access, slices,
/// <c>+ - ~ == != &lt; &gt; &lt;= &gt;= in not and or</c>, <c>x if c else y</c>, tests (<c>is defined</c>,
/// <c>is none</c>, <c>is string</c>), filters (<c>trim length lower upper</c>, <c>tojson</c>), string methods
/// (<c>strip startswith endswith upper lower</c>) and <c>raise_exception</c>. Values are null, bool, long,
/// double, string, lists and string-keyed dictionaries.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly List<Node> _nodes;

    private JinjaTemplate(List<Node> nodes) => _nodes = nodes;

    /// <summary>Parses <paramref name="source"/>; throws <see cref="TemplateException"/> for what the subset lacks.</summary>
    public static JinjaTemplate Parse(string source)
    {
        var parser = new Parser(Lexer.Split(source));
        var nodes = parser.Block(out string? end);
        if (end is not null) throw new TemplateException($"unexpected {{% {end} %}}");
        return new JinjaTemplate(nodes);
    }

    /// <summary>Renders with the given variables.</summary>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        var output = new StringBuilder();
        var scope = new Dictionary<string, object?>(variables, StringComparer.Ordinal);
        Execute(_nodes, scope, output);
        return output.ToString();
    }

    private static void Execute(List<Node> nodes, Dictionary<string, object?> scope, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case TextNode text:
                    output.Append(text.Text);
                    break;
                case OutputNode o:
                    output.Append(Values.ToText(o.Expression.Evaluate(scope)));
                    break;
                case SetNode set:
                    scope[set.Name] = set.Value.Evaluate(scope);
                    break;
                case IfNode branch:
                    foreach (var (condition, body) in branch.Branches)
                    {
                        if (condition is null || Values.Truthy(condition.Evaluate(scope)))
                        {
                            Execute(body, scope, output);
                            break;
                        }
                    }
                    break;
                case ForNode loop:
                    var items = Values.Iterate(loop.Source.Evaluate(scope)).ToList();
                    scope.TryGetValue(loop.Variable, out var saved);
                    scope.TryGetValue("loop", out var savedLoop);
                    for (int i = 0; i < items.Count; i++)
                    {
                        scope[loop.Variable] = items[i];
                        scope["loop"] = new Dictionary<string, object?>
                        {
                            ["index"] = (long)(i + 1), ["index0"] = (long)i, ["first"] = i == 0, ["last"] = i == items.Count - 1,
                            ["length"] = (long)items.Count, ["revindex"] = (long)(items.Count - i), ["revindex0"] = (long)(items.Count - i - 1),
                        };
                        Execute(loop.Body, scope, output);
                    }
                    if (items.Count == 0 && loop.Else is not null) Execute(loop.Else, scope, output);
                    scope[loop.Variable] = saved;
                    scope["loop"] = savedLoop;
                    break;
            }
        }
    }

    private abstract record Node;
    private sealed record TextNode(string Text) : Node;
    private sealed record OutputNode(Expression Expression) : Node;
    private sealed record SetNode(string Name, Expression Value) : Node;
    private sealed record IfNode(List<(Expression? Condition, List<Node> Body)> Branches) : Node;
    private sealed record ForNode(string Variable, Expression Source, List<Node> Body, List<Node>? Else) : Node;

    /// <summary>
    /// Template text split into literal text and tags, with whitespace control as transformers configures Jinja for
    /// chat templates: <c>-</c> markers, <c>trim_blocks</c> (the newline after a block tag goes) and
    /// <c>lstrip_blocks</c> (indentation before a block tag goes).
    /// </summary>
    private static class Lexer
    {
        public static List<(char Kind, string Content)> Split(string source)
        {
            var parts = new List<(char, string)>();
            int i = 0;
            bool trimNextText = false, trimNextNewline = false;
            while (i < source.Length)
            {
                int open = IndexOfTag(source, i);
                string text = open < 0 ? source[i..] : source[i..open];
                if (trimNextText) text = text.TrimStart();
                else if (trimNextNewline && text.StartsWith('\n')) text = text[1..];
                trimNextText = trimNextNewline = false;
                if (open < 0)
                {
                    if (text.Length > 0) parts.Add(('t', text));
                    break;
                }
                char kind = source[open + 1];
                string close = kind switch { '{' => "}}", '%' => "%}", _ => "#}" };
                int start = open + 2;
                if (start < source.Length && source[start] == '-')
                {
                    text = text.TrimEnd();
                    start++;
                }
                else if (kind != '{')
                {
                    int lineStart = text.LastIndexOf('\n') + 1;
                    if (text[lineStart..].All(c => c is ' ' or '\t')) text = text[..lineStart];
                }
                if (text.Length > 0) parts.Add(('t', text));
                int end = source.IndexOf(close, start, StringComparison.Ordinal);
                if (end < 0) throw new TemplateException($"unclosed tag at offset {open}");
                string content = source[start..end];
                if (content.EndsWith('-'))
                {
                    content = content[..^1];
                    trimNextText = true;
                }
                else if (kind != '{')
                {
                    trimNextNewline = true;
                }
                if (kind != '#') parts.Add((kind, content.Trim()));
                i = end + 2;
            }
            return parts;
        }

        private static int IndexOfTag(string s, int from)
        {
            for (int i = from; i < s.Length - 1; i++)
            {
                if (s[i] == '{' && s[i + 1] is '{' or '%' or '#') return i;
            }
            return -1;
        }
    }

    private sealed class Parser(List<(char Kind, string Content)> parts)
    {
        private int _position;

        public List<Node> Block(out string? terminator, params string[] ends)
        {
            var nodes = new List<Node>();
            while (_position < parts.Count)
            {
                var (kind, content) = parts[_position++];
                if (kind == 't') nodes.Add(new TextNode(content));
                else if (kind == '{') nodes.Add(new OutputNode(ExpressionParser.Parse(content)));
                else
                {
                    string keyword = content.Split(' ', 2)[0];
                    if (ends.Contains(keyword))
                    {
                        terminator = content;
                        return nodes;
                    }
                    nodes.Add(Statement(keyword, content));
                }
            }
            terminator = null;
            if (ends.Length > 0) throw new TemplateException($"missing {{% {ends[^1]} %}}");
            return nodes;
        }

        private Node Statement(string keyword, string content)
        {
            string rest = content.Length > keyword.Length ? content[(keyword.Length + 1)..].Trim() : "";
            switch (keyword)
            {
                case "if":
                {
                    var branches = new List<(Expression?, List<Node>)>();
                    Expression? condition = ExpressionParser.Parse(rest);
                    while (true)
                    {
                        var body = Block(out string? end, "elif", "else", "endif");
                        branches.Add((condition, body));
                        if (end!.StartsWith("elif", StringComparison.Ordinal)) condition = ExpressionParser.Parse(end[4..].Trim());
                        else if (end == "else") condition = null;
                        else return new IfNode(branches);
                        if (condition is null)
                        {
                            branches.Add((null, Block(out _, "endif")));
                            return new IfNode(branches);
                        }
                    }
                }
                case "for":
                {
                    int inAt = rest.IndexOf(" in ", StringComparison.Ordinal);
                    if (inAt < 0) throw new TemplateException($"malformed {{% for {rest} %}}");
                    string variable = rest[..inAt].Trim();
                    var source = ExpressionParser.Parse(rest[(inAt + 4)..]);
                    var body = Block(out string? end, "else", "endfor");
                    List<Node>? otherwise = end == "else" ? Block(out _, "endfor") : null;
                    return new ForNode(variable, source, body, otherwise);
                }
                case "set":
                {
                    int eq = rest.IndexOf('=');
                    if (eq < 0) throw new TemplateException($"malformed {{% set {rest} %}}");
                    return new SetNode(rest[..eq].Trim(), ExpressionParser.Parse(rest[(eq + 1)..]));
                }
                default:
                    throw new TemplateException($"unsupported tag {{% {keyword} %}}");
            }
        }
    }
}
