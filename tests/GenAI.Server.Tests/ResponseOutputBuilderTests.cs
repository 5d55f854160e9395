using System.Text.Json;
using GenAI.Core.Generation;
using GenAI.Server.Api;

namespace GenAI.Server.Tests;

/// <summary>
/// <see cref="ResponseOutputBuilder"/> with a hand-written <see cref="IAssistantOutputParser"/> that produces every piece
/// kind (what the per-family parsers will produce): the output items and the stream events OpenAI sends for them.
/// </summary>
public sealed class ResponseOutputBuilderTests
{
    /// <summary>Reads a tiny markup, one generated token per Push: "&lt;r&gt;" reasoning, "&lt;c name&gt;" a call, "&lt;/&gt;" back to answer text.</summary>
    private sealed class MarkupParser : IAssistantOutputParser
    {
        private string _mode = "answer";

        public IReadOnlyList<AssistantOutputPiece> Push(string text)
        {
            if (text == "<r>") { _mode = "reasoning"; return []; }
            if (text.StartsWith("<c ", StringComparison.Ordinal))
            {
                _mode = "call";
                return [new ToolCallStarted(text[3..^1], text[3..^1] == "lookup" ? "call_fixed" : null)];
            }
            if (text == "</>")
            {
                bool wasCall = _mode == "call";
                _mode = "answer";
                return wasCall ? [new ToolCallEnded()] : [];
            }
            return _mode switch
            {
                "reasoning" => [new ReasoningText(text)],
                "call" => [new ToolCallArguments(text)],
                _ => [new AnswerText(text)],
            };
        }

        public IReadOnlyList<AssistantOutputPiece> Finish() => _mode == "call" ? [new ToolCallEnded()] : [];

        public bool IsReasoning => _mode == "reasoning";
    }

    private static ResponseOutputBuilder Run(FinishReason finish, params string[] tokens)
    {
        var builder = new ResponseOutputBuilder(new MarkupParser());
        for (int i = 0; i < tokens.Length; i++)
        {
            builder.Push(new GenerationEvent { TokenId = i, Text = tokens[i], Finish = i == tokens.Length - 1 ? finish : null });
        }
        builder.End();
        return builder;
    }

    [Fact]
    public void EveryPieceKindBecomesItsItemAndItsEvents()
    {
        var builder = Run(FinishReason.Stop, "<r>", "Let me ", "think.", "</>", "Calling.", "<c lookup>", "{\"q\":", " 1}", "</>", "<c now>", "{}", "</>", "Done");

        var output = builder.Output;
        Assert.Equal(5, output.Count);
        var reasoning = Assert.IsType<ReasoningItem>(output[0]);
        Assert.Equal("Let me think.", Assert.IsType<ReasoningTextPart>(Assert.Single(reasoning.Content)).Text);
        var message = Assert.IsType<MessageItem>(output[1]);
        Assert.Equal(("assistant", "Calling."), (message.Role, Assert.IsType<OutputTextPart>(Assert.Single(message.Content)).Text));
        var lookup = Assert.IsType<FunctionCallItem>(output[2]);
        Assert.Equal(("lookup", "call_fixed", "{\"q\": 1}", ResponseStatus.Completed), (lookup.Name, lookup.CallId, lookup.Arguments, lookup.Status));
        var now = Assert.IsType<FunctionCallItem>(output[3]);
        Assert.Equal(("now", "{}"), (now.Name, now.Arguments));
        Assert.StartsWith("call_", now.CallId); // made when the model's syntax has no id
        Assert.Equal("Done", Assert.IsType<OutputTextPart>(Assert.Single(Assert.IsType<MessageItem>(output[4]).Content)).Text);
        Assert.Equal(5, output.Select(i => i.Id).Distinct().Count());
        Assert.Equal(4, builder.ReasoningTokens); // "<r>", "Let me ", "think.", "</>": the think tags count, as in chat

        var events = builder.TakeEvents();
        Assert.Equal(
        [
            "response.output_item.added", "response.reasoning_text.delta", "response.reasoning_text.delta", "response.reasoning_text.done", "response.output_item.done",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.output_item.done",
        ], events.Select(e => e.Type));
        Assert.Empty(builder.TakeEvents());

        // Each item's events name its output index and id; the added item is in progress, the done item is the output's.
        var added = events.OfType<OutputItemEvent>().Where(e => e.Type.EndsWith(".added")).ToList();
        var done = events.OfType<OutputItemEvent>().Where(e => e.Type.EndsWith(".done")).ToList();
        Assert.Equal([0, 1, 2, 3, 4], added.Select(e => e.OutputIndex));
        Assert.All(added, e => Assert.Equal(output[e.OutputIndex].Id, e.Item.Id));
        Assert.Equal(output, done.Select(e => e.Item));
        var callAdded = Assert.IsType<FunctionCallItem>(added[2].Item);
        Assert.Equal((ResponseStatus.InProgress, "lookup", "call_fixed", ""), (callAdded.Status, callAdded.Name, callAdded.CallId, callAdded.Arguments));
        var argumentsDone = events.OfType<FunctionCallArgumentsDoneEvent>().First();
        Assert.Equal((lookup.Id, 2, "lookup", "{\"q\": 1}"), (argumentsDone.ItemId, argumentsDone.OutputIndex, argumentsDone.Name, argumentsDone.Arguments));
        Assert.All(events.OfType<OutputTextDeltaEvent>(), e => Assert.Equal(output[e.OutputIndex].Id, e.ItemId));

        // The events serialize as OpenAI's: type first, snake_case fields.
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(events[12], events[12].GetType(), JsonBody.Options));
        Assert.Equal(["type", "sequence_number", "item_id", "output_index", "delta"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("response.function_call_arguments.delta", lookup.Id, "{\"q\":"),
            (json.RootElement.GetProperty("type").GetString(), json.RootElement.GetProperty("item_id").GetString(), json.RootElement.GetProperty("delta").GetString()));
    }

    [Fact]
    public void AnOutputCutByLengthLeavesItsLastItemIncomplete()
    {
        var cut = Run(FinishReason.Length, "Hello", "<c lookup>", "{\"q\":");
        Assert.Equal(ResponseStatus.Completed, Assert.IsType<MessageItem>(cut.Output[0]).Status);
        var call = Assert.IsType<FunctionCallItem>(cut.Output[1]);
        Assert.Equal((ResponseStatus.Incomplete, "{\"q\":"), (call.Status, call.Arguments));
        Assert.Equal(FinishReason.Length, cut.Finish);
        Assert.Equal(0, cut.ReasoningTokens);
    }

    [Fact]
    public void AnEmptyOutputIsAnEmptyMessage()
    {
        var empty = Run(FinishReason.Stop, "");
        var message = Assert.IsType<MessageItem>(Assert.Single(empty.Output));
        Assert.Equal("", Assert.IsType<OutputTextPart>(Assert.Single(message.Content)).Text);
        Assert.Equal(["response.output_item.added", "response.content_part.added", "response.output_text.done", "response.content_part.done", "response.output_item.done"],
            empty.TakeEvents().Select(e => e.Type));
    }
}
