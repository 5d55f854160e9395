using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using GenAI.Core.Generation.Constraints;

namespace GenAI.Server.Api;

/// <summary>
/// Everything of a Responses request besides its input and sampling, validated (a 400 naming the field otherwise):
/// the tools (as echoed, and in chat's shape for the template and the model's own calls, read and compiled once here),
/// tool_choice (and the calls it forces), the output format and its constraint, reasoning, metadata; fields GenAI does
/// not support are refused here.
/// </summary>
public sealed partial record ResponseOptions(
    List<FunctionToolDefinition> Tools,
    ChatToolRequest ToolCalls,
    JsonElement ToolChoice,
    ForcedToolCalls? ForcedCalls,
    ResponseTextConfig Text,
    OutputConstraint? Constraint,
    ResponseReasoningConfig Reasoning,
    bool? EnableThinking,
    Dictionary<string, string> Metadata,
    bool Store)
{
    private static readonly HashSet<string> Efforts = ["none", "minimal", "low", "medium", "high", "xhigh"];

    /// <summary><c>include</c> values accepted (they ask for nothing GenAI has: reasoning is never encrypted).</summary>
    private static readonly HashSet<string> Includes = ["reasoning.encrypted_content"];

    /// <summary>Validates the request's options.</summary>
    public static ResponseOptions From(CreateResponseRequest request)
    {
        Refuse(request);
        var tools = ParseTools(request.Tools);
        bool parallel = request.ParallelToolCalls ?? true;
        var (toolChoice, forced) = ParseToolChoice(request.ToolChoice, tools, parallel);
        var (text, constraint) = Format(request.Text?.Format);
        var reasoning = request.Reasoning ?? new ResponseReasoningConfig();
        if (reasoning.Effort is { } effort && !Efforts.Contains(effort))
        {
            throw ApiException.Invalid($"reasoning.effort must be one of {string.Join(", ", Efforts)}, not '{effort}'", "reasoning.effort");
        }
        bool? thinking = reasoning.Effort is null ? null : reasoning.Effort is not ("none" or "minimal");
        var metadata = ParseMetadata(request.Metadata);
        return new ResponseOptions(tools, ChatCalls(tools, toolChoice, forced, constraint, parallel), toolChoice, forced, text, constraint,
            new ResponseReasoningConfig { Effort = reasoning.Effort, Summary = reasoning.Summary }, thinking, metadata, request.Store ?? true);
    }

    private static void Refuse(CreateResponseRequest request)
    {
        if (request.Truncation is not (null or "disabled"))
        {
            throw ApiException.Invalid(request.Truncation == "auto"
                ? "truncation 'auto' is not supported: a conversation longer than the model's context is refused (truncation 'disabled')"
                : $"truncation must be 'disabled', not '{request.Truncation}'", "truncation");
        }
        if (request.Background == true) throw ApiException.Invalid("background responses are not supported; stream instead", "background");
        if (request.Conversation is { ValueKind: not JsonValueKind.Null }) throw ApiException.Invalid("conversations are not supported; continue a stored response with previous_response_id", "conversation");
        if (request.Prompt is { ValueKind: not JsonValueKind.Null }) throw ApiException.Invalid("stored prompt templates are not supported; send input and instructions", "prompt");
        if (request.TopLogprobs is > 0) throw ApiException.Invalid("top_logprobs is not supported by the Responses endpoint (chat completions has logprobs)", "top_logprobs");
        if (request.MaxToolCalls is < 1) throw ApiException.Invalid($"max_tool_calls must be at least 1, not {request.MaxToolCalls}", "max_tool_calls");
        foreach (string include in request.Include ?? [])
        {
            if (!Includes.Contains(include)) throw ApiException.Invalid($"include '{include}' is not supported", "include");
        }
    }

    private static List<FunctionToolDefinition> ParseTools(JsonElement? tools)
    {
        if (tools is not { } list || list.ValueKind == JsonValueKind.Null) return [];
        if (list.ValueKind != JsonValueKind.Array) throw ApiException.Invalid("tools must be a list of {\"type\": \"function\", \"name\", \"parameters\"}", "tools");
        var result = new List<FunctionToolDefinition>();
        int i = 0;
        foreach (var tool in list.EnumerateArray())
        {
            string field = $"tools[{i++}]";
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                throw ApiException.Invalid($"{field} must be an object with a type", field);
            }
            if (type.GetString() != "function") throw ApiException.Invalid($"{field}.type: only function tools are supported, not '{type.GetString()}'", $"{field}.type");
            if (tool.TryGetProperty("function", out _)) throw ApiException.Invalid($"{field}: Responses tools are flat ({{\"type\": \"function\", \"name\", \"parameters\"}}), without a nested function object", $"{field}.function");
            if (!tool.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || !FunctionName().IsMatch(name.GetString()!))
            {
                throw ApiException.Invalid($"{field}.name must be 1 to 64 letters, digits, '_' or '-'", $"{field}.name");
            }
            string? description = null;
            if (tool.TryGetProperty("description", out var d) && d.ValueKind != JsonValueKind.Null)
            {
                description = d.ValueKind == JsonValueKind.String ? d.GetString() : throw ApiException.Invalid($"{field}.description must be a string", $"{field}.description");
            }
            JsonElement? parameters = null;
            if (tool.TryGetProperty("parameters", out var p) && p.ValueKind != JsonValueKind.Null)
            {
                parameters = p.ValueKind == JsonValueKind.Object ? p.Clone() : throw ApiException.Invalid($"{field}.parameters must be a JSON Schema object", $"{field}.parameters");
            }
            bool? strict = null;
            if (tool.TryGetProperty("strict", out var s) && s.ValueKind != JsonValueKind.Null)
            {
                strict = s.ValueKind is JsonValueKind.True or JsonValueKind.False ? s.GetBoolean() : throw ApiException.Invalid($"{field}.strict must be a boolean", $"{field}.strict");
            }
            if (result.Any(t => t.Name == name.GetString())) throw ApiException.Invalid($"{field}.name '{name.GetString()}' is defined twice", $"{field}.name");
            result.Add(new FunctionToolDefinition(name.GetString()!, description, parameters, strict));
        }
        return result;
    }

    /// <summary>
    /// The tools in chat's shape (what the template renders) and the calls the model opens in its family's syntax: auto,
    /// or none with tool_choice none, a text.format (the answer is that format) or forced calls (the whole output is
    /// their JSON, which the family's parser never sees).
    /// </summary>
    private static ChatToolRequest ChatCalls(List<FunctionToolDefinition> tools, JsonElement toolChoice, ForcedToolCalls? forced, OutputConstraint? constraint, bool parallel)
    {
        var chatTools = tools.Count == 0 ? null : new JsonArray(tools.Select(ChatTool).ToArray<JsonNode?>());
        var schemas = tools.Select(t => new ToolSchema(t.Name, t.Parameters)).ToList();
        // Forced calls compiled the schemas they use (a named function's alone); the others are only rendered.
        if (forced is not null) return new ChatToolRequest(chatTools, schemas, ToolChoiceMode.None, null, parallel);
        bool none = constraint is not null || toolChoice.ValueKind == JsonValueKind.String && toolChoice.GetString() == "none";
        return ChatToolRequest.Create(chatTools, schemas, none ? ToolChoiceMode.None : ToolChoiceMode.Auto, parallel);
    }

    /// <summary>A Responses function tool in chat's shape, which chat templates read.</summary>
    private static JsonObject ChatTool(FunctionToolDefinition tool)
    {
        var function = new JsonObject { ["name"] = tool.Name };
        if (tool.Description is not null) function["description"] = tool.Description;
        if (tool.Parameters is { } parameters) function["parameters"] = JsonNode.Parse(parameters.GetRawText());
        if (tool.Strict is not null) function["strict"] = tool.Strict;
        return new JsonObject { ["type"] = "function", ["function"] = function };
    }

    // "auto", "none", "required" or {"type": "function", "name"}; the echo is what OpenAI echoes.
    private static (JsonElement Echo, ForcedToolCalls? Forced) ParseToolChoice(JsonElement? choice, List<FunctionToolDefinition> tools, bool parallel)
    {
        const string Field = "tool_choice";
        if (choice is not { } c || c.ValueKind == JsonValueKind.Null) return (JsonSerializer.SerializeToElement("auto"), null);
        if (c.ValueKind == JsonValueKind.String)
        {
            switch (c.GetString())
            {
                case "auto" or "none":
                    return (c.Clone(), null);
                case "required":
                    if (tools.Count == 0) throw ApiException.Invalid("tool_choice 'required' needs at least one tool in tools", Field);
                    return (c.Clone(), ForcedToolCalls.AnyOf(tools, parallel));
            }
        }
        else if (c.ValueKind == JsonValueKind.Object && c.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String)
        {
            if (type.GetString() != "function") throw ApiException.Invalid($"tool_choice.type: only function tools are supported, not '{type.GetString()}'", "tool_choice.type");
            if (!c.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                throw ApiException.Invalid("tool_choice.name is required: the function to call", "tool_choice.name");
            }
            var tool = tools.FirstOrDefault(t => t.Name == name.GetString())
                       ?? throw ApiException.Invalid($"tool_choice.name '{name.GetString()}' is not one of the tools", "tool_choice.name");
            return (c.Clone(), ForcedToolCalls.Named(tool, tools.IndexOf(tool)));
        }
        throw ApiException.Invalid("tool_choice must be 'auto', 'none', 'required' or {\"type\": \"function\", \"name\": ...}", Field);
    }

    private static (ResponseTextConfig Text, OutputConstraint? Constraint) Format(ResponseTextFormat? format)
    {
        if (format is null) return (new ResponseTextConfig { Format = new ResponseTextFormat { Type = "text" } }, null);
        var chatFormat = new ResponseFormat
        {
            Type = format.Type,
            JsonSchema = format.Type == "json_schema" ? new JsonSchemaFormat { Name = format.Name, Description = format.Description, Schema = format.Schema, Strict = format.Strict } : null,
        };
        var constraint = SamplingMapper.Constraint(chatFormat, "text.format", "text.format");
        var echoed = format.Type == "json_schema"
            ? new ResponseTextFormat { Type = format.Type, Name = format.Name, Description = format.Description, Schema = format.Schema?.Clone(), Strict = format.Strict }
            : new ResponseTextFormat { Type = format.Type };
        return (new ResponseTextConfig { Format = echoed }, constraint);
    }

    private static Dictionary<string, string> ParseMetadata(Dictionary<string, string>? metadata)
    {
        if (metadata is null) return [];
        if (metadata.Count > 16) throw ApiException.Invalid($"metadata holds at most 16 pairs, not {metadata.Count}", "metadata");
        foreach (var (key, value) in metadata)
        {
            if (key.Length > 64) throw ApiException.Invalid($"metadata keys are at most 64 characters ('{key[..16]}...' has {key.Length})", "metadata");
            if (value is null || value.Length > 512) throw ApiException.Invalid($"metadata['{key}'] must be a string of at most 512 characters", "metadata");
        }
        return new Dictionary<string, string>(metadata);
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex FunctionName();
}
