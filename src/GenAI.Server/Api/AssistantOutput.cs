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
/// <param name="ToolChoice">Chat's tool_choice: <c>"auto"</c>, <c>"none"</c> or <c>"required"</c> (also for a named function).</param>
/// <param name="ParallelToolCalls">Whether one turn may hold several calls.</param>
/// <param name="FunctionName">The function a named tool_choice names (with <c>"required"</c>).</param>
public sealed record ToolCallOptions(JsonArray? Tools, string ToolChoice, bool ParallelToolCalls, string? FunctionName = null)
{
    /// <summary>
    /// Where the prompt left the model's think block (<see cref="ModelOutputSyntax.ThinkingAt"/>): the output may open it,
    /// begins inside it, or comes after it (then a think tag in the output is answer text).
    /// </summary>
    public ThinkingStart Thinking { get; init; }
}

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

    /// <summary>True while the output is inside the think block (a token pushed while it is, or that makes it so, is a reasoning token).</summary>
    bool IsReasoning => false;
}

/// <summary>The one way chat and the Responses API count reasoning tokens.</summary>
public static class AssistantOutputParserExtensions
{
    /// <summary>
    /// Pushes one generated token's <paramref name="text"/> and says whether the token is a reasoning token (usage's
    /// <c>reasoning_tokens</c>): pushed while the output is inside the think block, or making it so — the think tags count.
    /// </summary>
    public static (IReadOnlyList<AssistantOutputPiece> Pieces, bool Reasoning) PushToken(this IAssistantOutputParser parser, string text)
    {
        bool wasReasoning = parser.IsReasoning;
        var pieces = text.Length > 0 ? parser.Push(text) : [];
        return (pieces, wasReasoning || parser.IsReasoning);
    }
}

/// <summary>Tool-call ids, as OpenAI writes them (<c>call_</c> and 24 letters and digits).</summary>
public static class ToolCallIds
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>A new id.</summary>
    public static string New() => "call_" + System.Security.Cryptography.RandomNumberGenerator.GetString(Alphabet, 24);
}

/// <summary>
/// Makes the parser for one output: the hook for per-family tool-call and reasoning parsing. The server registers
/// <see cref="AssistantOutputParsers"/> (the model family's syntax, <see cref="ModelOutputSyntax"/>) in <c>ServerApp</c>;
/// <see cref="PlainTextOutputParsers"/> reads everything as answer text.
/// </summary>
public interface IAssistantOutputParsers
{
    /// <summary>The parser for an output of <paramref name="model"/> generated with <paramref name="tools"/> offered.</summary>
    IAssistantOutputParser Create(ServedModel model, ToolCallOptions tools);
}

/// <summary>The whole output is answer text: no tool calls and no reasoning items.</summary>
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


/// <summary>
/// The parsers of the model families' own syntax (<see cref="ModelOutputSyntax"/>, chosen from the model's special
/// tokens): reasoning from a think block, tool calls from the family's call syntax when tools are offered and
/// tool_choice is not none.
/// </summary>
public sealed class AssistantOutputParsers : IAssistantOutputParsers
{
    /// <inheritdoc />
    public IAssistantOutputParser Create(ServedModel model, ToolCallOptions tools)
    {
        bool calls = tools.Tools is { Count: > 0 } && tools.ToolChoice != "none";
        return ModelOutputSyntax.For(model).CreateParser(calls, forced: tools.ToolChoice == "required", tools.Thinking);
    }
}
