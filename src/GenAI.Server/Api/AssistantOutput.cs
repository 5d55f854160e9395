using System.Text.Json.Nodes;
using GenAI.Server.Hosting;

namespace GenAI.Server.Api;

/// <summary>A piece of what the model wrote, as an <see cref="IAssistantOutputParser"/> recognises it.</summary>
public abstract record AssistantOutputPiece;

/// <summary>Answer text (output_text).</summary>
public sealed record AnswerText(string Text) : AssistantOutputPiece;

/// <summary>Thinking (a reasoning item; chat's <c>reasoning_content</c>).</summary>
public sealed record ReasoningText(string Text) : AssistantOutputPiece;

/// <summary>A tool call begins: its function's name and, when the model's syntax carries one, its id (else one is made).</summary>
public sealed record ToolCallStarted(string Name, string? CallId = null) : AssistantOutputPiece;

/// <summary>More of the current tool call's arguments (JSON text; the pieces of one call join into a JSON object).</summary>
public sealed record ToolCallArguments(string Delta) : AssistantOutputPiece;

/// <summary>The current tool call is complete.</summary>
public sealed record ToolCallEnded : AssistantOutputPiece;

/// <summary>The tools a request offers the model, in chat's shape (what the chat template receives), and how it may use them.</summary>
/// <param name="Tools">Chat tools: <c>{"type": "function", "function": {"name", "description", "parameters", "strict"}}</c>; null when none.</param>
/// <param name="ToolChoice">Chat's tool_choice: <c>"auto"</c> or <c>"none"</c>.</param>
/// <param name="ParallelToolCalls">Whether one turn may hold several calls.</param>
public sealed record ToolCallOptions(JsonArray? Tools, string ToolChoice, bool ParallelToolCalls);

/// <summary>
/// Splits one generated output, as it streams, into answer text, reasoning and tool calls in the model family's own
/// syntax (Qwen's <c>&lt;think&gt;</c> and <c>&lt;tool_call&gt;</c>, Llama's <c>&lt;|python_tag|&gt;</c>, ...). One
/// instance per output; not thread-safe. The Responses API turns the pieces into output items and stream events
/// (<c>ResponseOutputBuilder</c>): reasoning items, message items, function_call items.
/// </summary>
public interface IAssistantOutputParser
{
    /// <summary>
    /// Takes the next text the model wrote (a token's worth, in order) and returns what it now knows: text it is
    /// unsure of (the start of a possible tag) may be held back and returned by a later call.
    /// </summary>
    IReadOnlyList<AssistantOutputPiece> Push(string text);

    /// <summary>The output ended: everything still held back (an unfinished tag is text; an unfinished call is ended).</summary>
    IReadOnlyList<AssistantOutputPiece> Finish();
}

/// <summary>
/// Makes the parser for one output. This is the hook for per-family tool-call and reasoning parsing: the server
/// registers <see cref="PlainTextOutputParsers"/> (everything is answer text) in <c>ServerApp</c>; a parser that knows
/// the model's syntax replaces that registration.
/// </summary>
public interface IAssistantOutputParsers
{
    /// <summary>The parser for an output of <paramref name="model"/> generated with <paramref name="tools"/> offered.</summary>
    IAssistantOutputParser Create(ServedModel model, ToolCallOptions tools);
}

/// <summary>Until the per-family parsers land: the whole output is answer text, so no tool calls and no reasoning items.</summary>
public sealed class PlainTextOutputParsers : IAssistantOutputParsers
{
    /// <inheritdoc />
    public IAssistantOutputParser Create(ServedModel model, ToolCallOptions tools) => new Parser();

    private sealed class Parser : IAssistantOutputParser
    {
        public IReadOnlyList<AssistantOutputPiece> Push(string text) => text.Length == 0 ? [] : [new AnswerText(text)];

        public IReadOnlyList<AssistantOutputPiece> Finish() => [];
    }
}
