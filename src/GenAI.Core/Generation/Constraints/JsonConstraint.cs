using System.Text.Json;
using GenAI.Core.Tokenization;

namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// A compiled JSON constraint: the grammar of the one JSON value an output may be — any object
/// (<c>response_format: json_object</c>), the values of a JSON Schema (<c>json_schema</c>), or one of several function
/// calls (<see cref="ForToolCalls"/>). Immutable and thread-safe: compile once (see <see cref="JsonConstraintCache"/>),
/// then <see cref="Start"/> a <see cref="JsonConstraintState"/> per output. The grammar reads output bytes, so it
/// works over any tokenizer's vocabulary; what a tokenizer needs is built once per tokenizer and shared.
/// </summary>
public sealed class JsonConstraint
{
    internal JsonConstraint(Grammar grammar, string kind, byte? firstByte = null)
    {
        Grammar = grammar;
        Kind = kind;
        FirstByte = firstByte;
    }

    internal Grammar Grammar { get; }

    /// <summary>The byte every value begins with, when there is one (<c>{</c> for a call or an object, <c>[</c> for a list of calls).</summary>
    public byte? FirstByte { get; }

    /// <summary>What the constraint is, for logs: <c>json_object</c>, <c>json_schema</c>, <c>tool_calls</c>.</summary>
    public string Kind { get; }

    /// <summary>The grammar's limits (whitespace, nesting, digits).</summary>
    public JsonGrammarOptions Options => Grammar.Options;

    /// <summary>Any JSON object (OpenAI's <c>json_object</c>): string keys, any values.</summary>
    public static JsonConstraint AnyObject(JsonGrammarOptions? options = null)
    {
        options = Checked(options);
        return new JsonConstraint(new Grammar(JsonSchemaCompiler.AnyObject(options), options), "json_object", (byte)'{');
    }

    /// <summary>
    /// The values of <paramref name="schema"/> (see <see cref="JsonSchemaCompiler"/> for what is covered).
    /// <paramref name="path"/> is where the schema sits in the request, for errors (e.g.
    /// <c>response_format.json_schema.schema</c>).
    /// </summary>
    /// <exception cref="JsonSchemaException">The schema is invalid, unsupported, or admits no value within the limits.</exception>
    public static JsonConstraint FromSchema(JsonElement schema, string path = "schema", JsonGrammarOptions? options = null)
    {
        options = Checked(options);
        var root = JsonSchemaCompiler.CompileNode(schema, path, options);
        CheckRoot(root, path, options);
        return new JsonConstraint(new Grammar(root, options), "json_schema");
    }

    /// <summary>The values of the schema written as JSON text; malformed text is a <see cref="JsonSchemaException"/>.</summary>
    public static JsonConstraint FromSchema(string schemaJson, string path = "schema", JsonGrammarOptions? options = null)
    {
        using var document = Parse(schemaJson, path);
        return FromSchema(document.RootElement, path, options);
    }

    /// <summary>
    /// One function call — or with <see cref="ToolCallShape.Parallel"/> a non-empty JSON array of them — each
    /// <c>{"name": &lt;one of the tools&gt;, "arguments": &lt;a value of that tool's parameters schema&gt;}</c>
    /// (the key names come from <paramref name="shape"/>; Llama 3.1 writes <c>parameters</c>). Constrains
    /// <c>tool_choice: "required"</c> or a named function (give one tool), and, started after a tool-call opener
    /// (<see cref="OutputConstraint.TriggerTokenIds"/>), the model's own tool-call syntax. Errors name
    /// <c>tools[i].function.parameters...</c>.
    /// </summary>
    /// <exception cref="JsonSchemaException">A parameters schema is invalid or unsupported, or a name repeats.</exception>
    public static JsonConstraint ForToolCalls(IReadOnlyList<ToolSchema> tools, ToolCallShape? shape = null, JsonGrammarOptions? options = null)
    {
        options = Checked(options);
        shape ??= new ToolCallShape();
        if (tools.Count == 0) throw new JsonSchemaException("tools", "at least one tool is needed");
        if (shape.MaxCalls is < 1) throw new ArgumentOutOfRangeException(nameof(shape), "MaxCalls must be at least 1");
        var calls = new AnyOfNode { Path = "tools" };
        var nodes = new List<SchemaNode> { calls };
        var names = new HashSet<string>();
        for (int i = 0; i < tools.Count; i++)
        {
            var tool = tools[i];
            string path = $"tools[{i}].function";
            if (string.IsNullOrEmpty(tool.Name)) throw new JsonSchemaException(path + ".name", "a tool needs a name");
            if (!names.Add(tool.Name)) throw new JsonSchemaException(path + ".name", $"tool '{tool.Name}' is listed twice");
            SchemaNode arguments;
            if (tool.Parameters is { } parameters && parameters.ValueKind != JsonValueKind.Null)
            {
                arguments = JsonSchemaCompiler.CompileNode(parameters, path + ".parameters", options);
            }
            else
            {
                arguments = JsonSchemaCompiler.AnyObject(options); // no parameters: any object ({} included)
            }
            var name = new LiteralNode([JsonText.Encode(tool.Name)]) { MinDepth = 0, Path = path + ".name" };
            var call = new ObjectNode { Path = path };
            call.Properties.Add(new PropertyNode(shape.NameKey, name, Required: true));
            call.Properties.Add(new PropertyNode(shape.ArgumentsKey, arguments, Required: true));
            call.Seal();
            nodes.Add(name);
            nodes.Add(call);
            calls.Alternatives.Add(call);
        }
        SchemaNode root = calls;
        if (shape.Parallel)
        {
            root = new ArrayNode { Items = calls, MinItems = 1, MaxItems = shape.MaxCalls ?? ArrayNode.Unbounded, Path = "tools" };
            nodes.Add(root);
        }
        JsonSchemaCompiler.ComputeDepths(nodes, options);
        CheckRoot(root, "tools", options);
        return new JsonConstraint(new Grammar(root, options), "tool_calls", shape.Parallel ? (byte)'[' : (byte)'{');
    }

    /// <summary>
    /// Builds what constrained decoding precomputes for <paramref name="tokenizer"/> (token bytes, tries), if not yet
    /// built: call it off the engine's thread (a request's validation) so the first constrained request does not stall
    /// the batch. Idempotent and cheap once built.
    /// </summary>
    public void Prepare(TextTokenizer tokenizer) => TokenVocabulary.For(tokenizer);

    /// <summary>
    /// A state at the start of an output: the value's first byte comes next (after at most
    /// <paramref name="leadingWhitespace"/> whitespace bytes). <paramref name="endTokens"/> (EOS, stop token ids) are
    /// allowed exactly when the value is complete; other special tokens never are.
    /// </summary>
    public JsonConstraintState Start(TextTokenizer tokenizer, IEnumerable<int> endTokens, int leadingWhitespace = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leadingWhitespace);
        return new JsonConstraintState(this, TokenVocabulary.For(tokenizer), endTokens, leadingWhitespace);
    }

    private static JsonGrammarOptions Checked(JsonGrammarOptions? options)
    {
        options ??= JsonGrammarOptions.Default;
        options.Validate();
        return options;
    }

    private static void CheckRoot(SchemaNode root, string path, JsonGrammarOptions options)
    {
        if (root.MinDepth >= SchemaNode.Infinite)
        {
            throw new JsonSchemaException(path, "the schema admits no finite JSON value within the limits (a required property that recurses without end, or bounds no number with at most " +
                                                $"{options.MaxIntegerDigits} integer digits fits)");
        }
        if (root.MinDepth > options.MaxNestingDepth)
        {
            throw new JsonSchemaException(path, $"values of this schema nest {root.MinDepth} objects/arrays deep; the limit is {options.MaxNestingDepth}");
        }
    }

    internal static JsonDocument Parse(string json, string path)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new JsonSchemaException(path, "not valid JSON: " + e.Message);
        }
    }
}

/// <summary>A function for <see cref="JsonConstraint.ForToolCalls"/>: its name and its parameters' JSON Schema (null: any object).</summary>
/// <param name="Name">The function's name, written as the call's <c>name</c>.</param>
/// <param name="Parameters">The JSON Schema its arguments must validate against.</param>
public sealed record ToolSchema(string Name, JsonElement? Parameters);

/// <summary>How a constrained function call is written.</summary>
public sealed record ToolCallShape
{
    /// <summary>The key of the function's name (default <c>name</c>).</summary>
    public string NameKey { get; init; } = "name";

    /// <summary>The key of the arguments object (default <c>arguments</c>; Llama 3.1's JSON calls use <c>parameters</c>).</summary>
    public string ArgumentsKey { get; init; } = "arguments";

    /// <summary>True: a JSON array of one or more calls (parallel tool calls, Mistral's <c>[TOOL_CALLS]</c> list); false: one call object.</summary>
    public bool Parallel { get; init; }

    /// <summary>With <see cref="Parallel"/>: the most calls the array may hold (1 for Mistral's list when parallel_tool_calls is false); null: any number.</summary>
    public int? MaxCalls { get; init; }
}
