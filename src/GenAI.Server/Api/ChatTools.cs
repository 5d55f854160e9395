using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Core.Generation.Constraints;

namespace GenAI.Server.Api;

/// <summary>How a request lets the model use its tools (OpenAI's <c>tool_choice</c>).</summary>
public enum ToolChoiceMode
{
    /// <summary>No calls: the answer is text.</summary>
    None,

    /// <summary>The model decides; a call it opens is constrained to a valid one.</summary>
    Auto,

    /// <summary>The answer is one or more calls (constrained decoding).</summary>
    Required,

    /// <summary>The answer is a call of <see cref="ChatToolRequest.Function"/> (constrained decoding).</summary>
    Function,
}

/// <summary>
/// A request's validated <c>tools</c>, <c>tool_choice</c> and <c>parallel_tool_calls</c>: every parameters schema
/// compiled (so nothing the constraint compiler refuses reaches the engine), the choice resolved.
/// </summary>
/// <param name="Tools">The tools in chat's shape, for the template (null when none).</param>
/// <param name="Schemas">Each function's name and parameters schema.</param>
/// <param name="Choice">What tool_choice asks.</param>
/// <param name="Function">The function a named tool_choice names.</param>
/// <param name="Parallel">parallel_tool_calls (default true).</param>
public sealed record ChatToolRequest(JsonArray? Tools, IReadOnlyList<ToolSchema> Schemas, ToolChoiceMode Choice, string? Function, bool Parallel)
{
    /// <summary>No tools.</summary>
    public static ChatToolRequest NoTools { get; } = new(null, [], ToolChoiceMode.None, null, true);

    /// <summary>Tools are offered and the model may (or must) call them.</summary>
    public bool Calls => Schemas.Count > 0 && Choice != ToolChoiceMode.None;

    /// <summary>The answer must be calls (tool_choice required or a named function).</summary>
    public bool Forced => Choice is ToolChoiceMode.Required or ToolChoiceMode.Function;

    /// <summary>The shared contract's form, for <see cref="IAssistantOutputParsers"/>.</summary>
    public ToolCallOptions ToOptions(ThinkingStart thinking) =>
        new(Tools, Choice switch { ToolChoiceMode.None => "none", ToolChoiceMode.Auto => "auto", _ => "required" }, Parallel, Function)
        {
            Thinking = thinking,
        };

    /// <summary>Reads and validates the fields; a 400 names the field at fault.</summary>
    /// <param name="tools">The <c>tools</c> field.</param>
    /// <param name="toolChoice">The <c>tool_choice</c> field: <c>"none"</c>, <c>"auto"</c>, <c>"required"</c> or <c>{"type": "function", "function": {"name"}}</c>.</param>
    /// <param name="parallelToolCalls">The <c>parallel_tool_calls</c> field.</param>
    public static ChatToolRequest Parse(JsonElement? tools, JsonElement? toolChoice, bool? parallelToolCalls)
    {
        var (array, schemas) = ParseTools(tools);
        var (mode, function) = ParseChoice(toolChoice, schemas);
        Compile(schemas);
        return new ChatToolRequest(array, schemas, mode, function, parallelToolCalls ?? true);
    }

    /// <summary>
    /// Tools another API has read and validated (the Responses API's flat tools, in chat's shape), with their schemas
    /// compiled as <see cref="Parse"/> compiles them: a 400 names <c>tools[i].function.parameters...</c>.
    /// </summary>
    /// <param name="tools">The tools in chat's shape, for the template (null when none).</param>
    /// <param name="schemas">Each function's name and parameters schema.</param>
    /// <param name="choice">What the model may do with them (not a named function).</param>
    /// <param name="parallel">Whether one turn may hold several calls.</param>
    public static ChatToolRequest Create(JsonArray? tools, IReadOnlyList<ToolSchema> schemas, ToolChoiceMode choice, bool parallel)
    {
        Compile(schemas);
        return new ChatToolRequest(tools, schemas, choice, null, parallel);
    }

    // Every schema, whatever the choice: nothing the constraint compiler refuses reaches the engine.
    private static void Compile(IReadOnlyList<ToolSchema> schemas)
    {
        if (schemas.Count == 0) return;
        try
        {
            JsonConstraintCache.Shared.ForToolCalls(schemas, new ToolCallShape());
        }
        catch (JsonSchemaException e)
        {
            throw ApiException.Invalid(e.Message, e.Path);
        }
    }

    /// <summary>The <c>tools</c> field: the list for the template and each function's schema (not yet compiled).</summary>
    internal static (JsonArray? Array, List<ToolSchema> Schemas) ParseTools(JsonElement? tools)
    {
        var schemas = new List<ToolSchema>();
        if (tools is not { } t || t.ValueKind == JsonValueKind.Null) return (null, schemas);
        if (t.ValueKind != JsonValueKind.Array) throw ApiException.Invalid("tools must be a list of {\"type\": \"function\", \"function\": {...}}", "tools");
        int i = 0;
        foreach (var tool in t.EnumerateArray())
        {
            string field = $"tools[{i++}]";
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                throw ApiException.Invalid($"{field} must be an object with a type", field);
            }
            if (type.GetString() != "function") throw ApiException.Invalid($"{field}.type must be \"function\", not \"{type.GetString()}\"", $"{field}.type");
            if (!tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
                || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString()!.Length == 0)
            {
                throw ApiException.Invalid($"{field}.function must be an object with a non-empty name", $"{field}.function");
            }
            JsonElement? parameters = null;
            if (function.TryGetProperty("parameters", out var p))
            {
                if (p.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                {
                    throw ApiException.Invalid($"{field}.function.parameters must be a JSON Schema object", $"{field}.function.parameters");
                }
                if (p.ValueKind == JsonValueKind.Object) parameters = p.Clone();
            }
            schemas.Add(new ToolSchema(name.GetString()!, parameters));
        }
        return (JsonArray.Create(t.Clone()), schemas);
    }

    private static (ToolChoiceMode, string?) ParseChoice(JsonElement? choice, List<ToolSchema> schemas)
    {
        const string Field = "tool_choice";
        if (choice is not { } c || c.ValueKind == JsonValueKind.Null) return (schemas.Count > 0 ? ToolChoiceMode.Auto : ToolChoiceMode.None, null);
        if (c.ValueKind == JsonValueKind.String)
        {
            var mode = c.GetString() switch
            {
                "none" => ToolChoiceMode.None,
                "auto" => ToolChoiceMode.Auto,
                "required" => ToolChoiceMode.Required,
                var other => throw ApiException.Invalid($"tool_choice must be \"none\", \"auto\", \"required\" or {{\"type\": \"function\", \"function\": {{\"name\"}}}}, not \"{other}\"", Field),
            };
            if (mode == ToolChoiceMode.Required && schemas.Count == 0) throw ApiException.Invalid("tool_choice \"required\" needs tools", Field);
            return (mode, null);
        }
        if (c.ValueKind != JsonValueKind.Object || !c.TryGetProperty("type", out var type) || type.GetString() != "function"
            || !c.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
            || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
        {
            throw ApiException.Invalid("tool_choice must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\"}}", Field);
        }
        string named = name.GetString()!;
        if (schemas.Count == 0) throw ApiException.Invalid($"tool_choice names function '{named}' but the request has no tools", Field);
        if (schemas.All(s => s.Name != named))
        {
            throw ApiException.Invalid($"tool_choice names function '{named}', which is not among the tools ({string.Join(", ", schemas.Select(s => s.Name))})", Field);
        }
        return (ToolChoiceMode.Function, named);
    }
}
