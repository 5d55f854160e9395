using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Core.Generation.Constraints;

namespace GenAI.Server.Api;

/// <summary>
/// The calls <c>tool_choice</c> forces, made as vLLM makes them: the whole output is JSON, constrained to valid calls,
/// whatever syntax the model's family has for tool calls. A named function's output is its arguments (a value of its
/// <c>parameters</c>); <c>required</c>'s is a list of <c>{"name", "arguments"}</c> of the tools (one at most without
/// <c>parallel_tool_calls</c>, at most <c>max_tool_calls</c> when given). <see cref="CreateParser"/> turns that output
/// into function calls.
/// </summary>
/// <param name="Constraint">The constraint of the output.</param>
/// <param name="FunctionName">The named function, or null for <c>required</c>.</param>
public sealed record ForcedToolCalls(OutputConstraint Constraint, string? FunctionName)
{
    /// <summary><c>{"type": "function", "name"}</c>: the output is <paramref name="tool"/>'s arguments.</summary>
    public static ForcedToolCalls Named(FunctionToolDefinition tool, int index) =>
        new(Compile(Parameters(tool), $"tools[{index}].parameters"), tool.Name);

    /// <summary><c>required</c>: the output is one or more calls of <paramref name="tools"/>.</summary>
    public static ForcedToolCalls AnyOf(IReadOnlyList<FunctionToolDefinition> tools, bool parallel, int? maxCalls)
    {
        var calls = new JsonArray();
        for (int i = 0; i < tools.Count; i++)
        {
            var parameters = Parameters(tools[i]);
            Compile(parameters, $"tools[{i}].parameters"); // so an unsupported keyword is named where the client wrote it
            calls.Add(new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { ["name"] = new JsonObject { ["const"] = tools[i].Name }, ["arguments"] = parameters },
                ["required"] = new JsonArray("name", "arguments"),
                ["additionalProperties"] = false,
            });
        }
        var schema = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["anyOf"] = calls }, ["minItems"] = 1 };
        if (!parallel) schema["maxItems"] = 1;
        else if (maxCalls is int max) schema["maxItems"] = max;
        return new ForcedToolCalls(Compile(schema, "tools"), null);
    }

    /// <summary>The parser of one output: it reads the constrained JSON as the calls it is.</summary>
    public IAssistantOutputParser CreateParser() => FunctionName is { } name ? new ArgumentsParser(name) : new CallListParser();

    // A function without parameters takes the empty object (as OpenAI's models answer "{}").
    private static JsonNode Parameters(FunctionToolDefinition tool) =>
        tool.Parameters is { } p ? JsonNode.Parse(p.GetRawText())! : new JsonObject { ["type"] = "object", ["properties"] = new JsonObject(), ["additionalProperties"] = false };

    private static OutputConstraint Compile(JsonNode schema, string field)
    {
        try
        {
            return new OutputConstraint(JsonConstraintCache.Shared.FromSchema(JsonSerializer.SerializeToElement(schema), field)) { Parameter = "tool_choice" };
        }
        catch (JsonSchemaException e)
        {
            throw ApiException.Invalid(e.Message, field);
        }
    }

    // The output is the arguments: streamed as they come.
    private sealed class ArgumentsParser(string name) : IAssistantOutputParser
    {
        private bool _started;

        public IReadOnlyList<AssistantOutputPiece> Push(string text)
        {
            if (text.Length == 0) return [];
            if (_started) return [new ToolCallArguments(text)];
            _started = true;
            return [new ToolCallStarted(name), new ToolCallArguments(text)];
        }

        public IReadOnlyList<AssistantOutputPiece> Finish() => _started ? [new ToolCallEnded()] : [new ToolCallStarted(name), new ToolCallEnded()];
    }

    // The output is a list of calls: read at the end. Of a list cut short (max_output_tokens), the complete calls count.
    private sealed class CallListParser : IAssistantOutputParser
    {
        private readonly System.Text.StringBuilder _text = new();

        public IReadOnlyList<AssistantOutputPiece> Push(string text)
        {
            _text.Append(text);
            return [];
        }

        public IReadOnlyList<AssistantOutputPiece> Finish()
        {
            string text = _text.ToString();
            var pieces = new List<AssistantOutputPiece>();
            using var calls = JsonDocument.Parse(CompleteCalls(text));
            foreach (var call in calls.RootElement.EnumerateArray())
            {
                pieces.Add(new ToolCallStarted(call.GetProperty("name").GetString()!));
                pieces.Add(new ToolCallArguments(call.GetProperty("arguments").GetRawText()));
                pieces.Add(new ToolCallEnded());
            }
            return pieces;
        }

        // The list up to its last complete call, closed: "[{...}, {...}, {..." becomes "[{...}, {...}]".
        private static string CompleteCalls(string text)
        {
            byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(text);
            var reader = new Utf8JsonReader(utf8, isFinalBlock: false, default);
            long lastCallEnd = -1;
            try
            {
                while (reader.Read())
                {
                    if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 1) lastCallEnd = reader.BytesConsumed;
                    if (reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == 0) return text;
                }
            }
            catch (JsonException)
            {
                // The constraint keeps the text valid; an unreadable tail is simply not a call.
            }
            return lastCallEnd < 0 ? "[]" : System.Text.Encoding.UTF8.GetString(utf8, 0, (int)lastCallEnd) + "]";
        }
    }
}
