using System.Collections.Concurrent;
using System.Text;

namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// A compiled JSON grammar: the node every output starts from and the limits its automaton keeps. Immutable once
/// built; its nodes are shared by every request that uses it (states refer to them, so equal states of one grammar
/// are equal objects' worth of fields — what the mask cache keys on).
/// </summary>
internal sealed class Grammar(SchemaNode root, JsonGrammarOptions options)
{
    public SchemaNode Root { get; } = root;

    public JsonGrammarOptions Options { get; } = options;
}

/// <summary>One value's grammar: an object, array, string, number, a set of literals, or a choice of them.</summary>
internal abstract class SchemaNode
{
    /// <summary>"No finite value" for <see cref="MinDepth"/>.</summary>
    public const int Infinite = int.MaxValue / 4;

    /// <summary>
    /// The fewest nested containers (objects and arrays) a value of this node needs: 0 for scalars, 1 + the deepest
    /// required part for a container, <see cref="Infinite"/> when the node has no finite value (a required
    /// recursion). A value is started only where it can still close within <see cref="JsonGrammarOptions.MaxNestingDepth"/>,
    /// so no state is ever a dead end.
    /// </summary>
    public int MinDepth { get; set; } = Infinite;

    /// <summary>Where the node came from in the schema, for messages.</summary>
    public string Path { get; init; } = "";
}

/// <summary>
/// An object. With declared properties, exactly those are written, in declared order, the required ones always and
/// the optional ones at the model's choice (never a key twice, never an undeclared key). Without, it is a map: any
/// string keys, each value of <see cref="Values"/>.
/// </summary>
internal sealed class ObjectNode : SchemaNode
{
    private readonly ConcurrentDictionary<(int From, int Depth), LiteralTrie> _keyTries = new();
    private bool[] _canCloseFrom = [];

    public List<PropertyNode> Properties { get; } = [];

    /// <summary>The value grammar of every key of a map; null for an object of declared properties.</summary>
    public SchemaNode? Values { get; set; }

    public bool IsMap => Values is not null;

    /// <summary>Called once the properties are final.</summary>
    public void Seal()
    {
        _canCloseFrom = new bool[Properties.Count + 1];
        _canCloseFrom[Properties.Count] = true;
        for (int i = Properties.Count - 1; i >= 0; i--) _canCloseFrom[i] = _canCloseFrom[i + 1] && !Properties[i].Required;
    }

    /// <summary>True when no required property comes at or after index <paramref name="from"/>.</summary>
    public bool CanCloseFrom(int from) => IsMap || _canCloseFrom[from];

    /// <summary>
    /// The keys (quoted, as JSON writes them) that may come next after the properties before <paramref name="from"/>
    /// in an object at nesting <paramref name="depth"/>: the optional ones up to the next required one, which ends the
    /// choice; optional ones whose value could not close within the depth limit are left out. Accept value: the index.
    /// </summary>
    public LiteralTrie KeyTrie(int from, int depth, int maxDepth) => _keyTries.GetOrAdd((from, depth), key =>
    {
        var keys = new List<(byte[], int)>();
        for (int i = key.From; i < Properties.Count; i++)
        {
            var property = Properties[i];
            if (property.Required || key.Depth + property.Value.MinDepth <= maxDepth) keys.Add((property.KeyBytes, i));
            if (property.Required) break;
        }
        return new LiteralTrie(keys);
    });
}

/// <summary>A declared property: its name, its value's grammar, whether it is required, and its key as JSON bytes.</summary>
internal sealed record PropertyNode(string Name, SchemaNode Value, bool Required)
{
    public byte[] KeyBytes { get; } = JsonText.Encode(Name);
}

/// <summary>An array of <see cref="Items"/>, <see cref="MinItems"/>..<see cref="MaxItems"/> long.</summary>
internal sealed class ArrayNode : SchemaNode
{
    public const int Unbounded = int.MaxValue;

    public SchemaNode Items { get; set; } = null!;

    public int MinItems { get; set; }

    public int MaxItems { get; set; } = Unbounded;
}

/// <summary>A string; with <see cref="Pattern"/>, its decoded code points must match it.</summary>
internal sealed class StringNode : SchemaNode
{
    public CodePointDfa? Pattern { get; init; }
}

/// <summary>A number (or integer) within optional bounds, digits bounded by the grammar's options.</summary>
internal sealed class NumberNode : SchemaNode
{
    public bool Integer { get; init; }

    public decimal? Minimum { get; init; }

    public bool MinimumExclusive { get; init; }

    public decimal? Maximum { get; init; }

    public bool MaximumExclusive { get; init; }

    public bool IsBounded => Minimum is not null || Maximum is not null;
}

/// <summary>A fixed set of JSON texts (enum, const, true/false/null), written in canonical compact form.</summary>
internal sealed class LiteralNode : SchemaNode
{
    public LiteralNode(IReadOnlyList<byte[]> values) => Trie = new LiteralTrie(values.Select((v, i) => (v, i)));

    public LiteralTrie Trie { get; }
}

/// <summary>Any of several grammars (anyOf, type lists, any JSON value).</summary>
internal sealed class AnyOfNode : SchemaNode
{
    public List<SchemaNode> Alternatives { get; } = [];
}

/// <summary>A <c>$ref</c>: the node it names (set once that is compiled; recursion is fine).</summary>
internal sealed class RefNode : SchemaNode
{
    public SchemaNode Target { get; set; } = null!;
}

/// <summary>A byte trie of a few strings (keys, literals); each string's last node carries its value index.</summary>
internal sealed class LiteralTrie
{
    private readonly List<Dictionary<byte, int>> _children = [[]];
    private readonly List<int> _accept = [-1];

    public LiteralTrie(IEnumerable<(byte[] Bytes, int Value)> strings)
    {
        foreach (var (bytes, value) in strings)
        {
            int node = 0;
            foreach (byte b in bytes)
            {
                if (!_children[node].TryGetValue(b, out int child))
                {
                    child = _children.Count;
                    _children.Add([]);
                    _accept.Add(-1);
                    _children[node][b] = child;
                }
                node = child;
            }
            if (_accept[node] < 0) _accept[node] = value;
        }
    }

    public bool IsEmpty => _children[0].Count == 0;

    public int Child(int node, int b) => b < 256 && _children[node].TryGetValue((byte)b, out int child) ? child : -1;

    /// <summary>The value index of the string ending at <paramref name="node"/>, or -1.</summary>
    public int Accept(int node) => _accept[node];

    public bool IsLeaf(int node) => _children[node].Count == 0;
}

/// <summary>Canonical compact JSON text: what the grammar writes for keys and literal values.</summary>
internal static class JsonText
{
    /// <summary>A JSON string literal: quote, backslash and control characters escaped, everything else as UTF-8.</summary>
    public static byte[] Encode(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('"');
        AppendEscaped(text, value);
        return Encoding.UTF8.GetBytes(text.Append('"').ToString());
    }

    /// <summary>A JSON value in canonical compact form (numbers as written).</summary>
    public static byte[] Encode(System.Text.Json.JsonElement value)
    {
        var text = new StringBuilder();
        Append(text, value);
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static void Append(StringBuilder text, System.Text.Json.JsonElement value)
    {
        switch (value.ValueKind)
        {
            case System.Text.Json.JsonValueKind.Object:
                text.Append('{');
                bool first = true;
                foreach (var property in value.EnumerateObject())
                {
                    if (!first) text.Append(',');
                    first = false;
                    text.Append('"');
                    AppendEscaped(text, property.Name);
                    text.Append("\":");
                    Append(text, property.Value);
                }
                text.Append('}');
                break;
            case System.Text.Json.JsonValueKind.Array:
                text.Append('[');
                bool firstItem = true;
                foreach (var item in value.EnumerateArray())
                {
                    if (!firstItem) text.Append(',');
                    firstItem = false;
                    Append(text, item);
                }
                text.Append(']');
                break;
            case System.Text.Json.JsonValueKind.String:
                text.Append('"');
                AppendEscaped(text, value.GetString()!);
                text.Append('"');
                break;
            default:
                text.Append(value.GetRawText());
                break;
        }
    }

    private static void AppendEscaped(StringBuilder text, string value)
    {
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                default:
                    if (c < 0x20) text.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    else text.Append(c);
                    break;
            }
        }
    }
}
