using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using GenAI.Core.Generation.Constraints;

namespace GenAI.Server.Api;

/// <summary>
/// The calls <c>tool_choice</c> forces, made as vLLM makes them: the whole output is JSON, constrained to valid calls,
/// whatever syntax the model's family has for tool calls. A named function's output is its arguments (a value of its
/// <c>parameters</c>); <c>required</c>'s is a call <c>{"name", "arguments"}</c> of one of the tools, or with
/// <c>parallel_tool_calls</c> a list of one or more (<see cref="JsonConstraint.ForToolCalls"/>).
/// <see cref="CreateParser"/> turns that output into function calls.
/// </summary>
/// <param name="Constraint">The constraint of the output.</param>
/// <param name="FunctionName">The named function, or null for <c>required</c>.</param>
public sealed partial record ForcedToolCalls(OutputConstraint Constraint, string? FunctionName)
{
    /// <summary><c>{"type": "function", "name"}</c>: the output is <paramref name="tool"/>'s arguments.</summary>
    public static ForcedToolCalls Named(FunctionToolDefinition tool, int index)
    {
        string field = $"tools[{index}].parameters";
        try
        {
            // No parameters: any object, as JsonConstraint.ForToolCalls has it.
            var arguments = tool.Parameters is { } p ? JsonConstraintCache.Shared.FromSchema(p, field) : JsonConstraintCache.Shared.AnyObject();
            return new ForcedToolCalls(new OutputConstraint(arguments) { Parameter = "tool_choice" }, tool.Name);
        }
        catch (JsonSchemaException e)
        {
            throw ApiException.Invalid(e.Message, field);
        }
    }

    /// <summary><c>required</c>: the output is a call of one of <paramref name="tools"/> (one or more with <paramref name="parallel"/>).</summary>
    public static ForcedToolCalls AnyOf(IReadOnlyList<FunctionToolDefinition> tools, bool parallel)
    {
        try
        {
            var calls = JsonConstraintCache.Shared.ForToolCalls(tools.Select(t => new ToolSchema(t.Name, t.Parameters)).ToList(), new ToolCallShape { Parallel = parallel });
            return new ForcedToolCalls(new OutputConstraint(calls) { Parameter = "tool_choice" }, null);
        }
        catch (JsonSchemaException e)
        {
            // Its paths are chat's (tools[i].function.parameters); Responses tools are flat.
            string path = ChatToolPath().Replace(e.Path, "tools[$1]");
            int parameters = path.IndexOf(".parameters", StringComparison.Ordinal);
            throw ApiException.Invalid($"{path}: {e.Reason}", parameters < 0 ? path : path[..(parameters + ".parameters".Length)]);
        }
    }

    /// <summary>The parser of one output: it reads the constrained JSON as the calls it is.</summary>
    public IAssistantOutputParser CreateParser() => FunctionName is { } name ? new ArgumentsParser(name) : new CallsParser();

    [GeneratedRegex(@"^tools\[(\d+)\]\.function")]
    private static partial Regex ChatToolPath();

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

    // The output is a call or a list of calls: each call is passed on once it is complete, so of a list max_output_tokens
    // cuts the complete calls stand; a single call cut short is no call, its text stays answer text.
    private sealed class CallsParser : IAssistantOutputParser
    {
        private readonly StringBuilder _text = new();
        private int _passed;

        public IReadOnlyList<AssistantOutputPiece> Push(string text)
        {
            _text.Append(text);
            if (!text.Contains('}')) return []; // a call can only complete at a closing brace
            var pieces = new List<AssistantOutputPiece>();
            var calls = CompleteCalls(_text.ToString(), _passed);
            foreach (var (name, arguments) in calls)
            {
                pieces.Add(new ToolCallStarted(name));
                pieces.Add(new ToolCallArguments(arguments));
                pieces.Add(new ToolCallEnded());
            }
            _passed += calls.Count;
            return pieces;
        }

        public IReadOnlyList<AssistantOutputPiece> Finish() => _passed == 0 && _text.Length > 0 ? [new AnswerText(_text.ToString())] : [];

        // The calls completed so far after the first `passed` of them: the value's, once it is complete, or the
        // list's complete elements.
        private static List<(string Name, string Arguments)> CompleteCalls(string text, int passed)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(text);
            var reader = new Utf8JsonReader(utf8, isFinalBlock: false, default);
            var ends = new List<(long Start, long End)>();
            long start = 0;
            int callDepth = -1; // 0: the value is one call; 1: a list of calls
            try
            {
                while (reader.Read())
                {
                    if (callDepth < 0) callDepth = reader.TokenType == JsonTokenType.StartArray ? 1 : 0;
                    if (reader.TokenType == JsonTokenType.StartObject && reader.CurrentDepth == callDepth) start = reader.TokenStartIndex;
                    if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == callDepth) ends.Add((start, reader.BytesConsumed));
                }
            }
            catch (JsonException)
            {
                // The constraint keeps the text valid JSON; an unreadable tail is simply not a call.
            }
            var calls = new List<(string, string)>();
            foreach (var (from, to) in ends.Skip(passed))
            {
                using var call = JsonDocument.Parse(utf8.AsMemory((int)from, (int)(to - from)));
                calls.Add((call.RootElement.GetProperty("name").GetString()!, call.RootElement.GetProperty("arguments").GetRawText()));
            }
            return calls;
        }
    }
}
