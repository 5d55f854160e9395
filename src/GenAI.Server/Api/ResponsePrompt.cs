using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Server.Hosting;

namespace GenAI.Server.Api;

/// <summary>
/// Where the Responses API meets chat: a conversation of items becomes the chat request the model's chat template
/// renders (<see cref="ChatPrompts"/>), and its sampling fields the ones chat maps (<see cref="SamplingMapper"/>), so
/// both endpoints feed a model the same prompt for the same conversation.
/// </summary>
public static class ResponsePrompt
{
    /// <summary>
    /// The chat request for <paramref name="conversation"/> (previous items, then the new input) with
    /// <paramref name="instructions"/> as a first system message. Messages keep their roles (<c>developer</c> becomes
    /// <c>system</c>, which every template knows); <c>function_call</c> items become the <c>tool_calls</c> of the
    /// assistant message they follow (or of a new one); <c>function_call_output</c> items become <c>tool</c> messages
    /// (with the function's name); a <c>reasoning</c> item is the <c>reasoning_content</c> of the assistant message after it.
    /// </summary>
    public static ChatCompletionRequest ChatRequest(CreateResponseRequest request, string? instructions, IReadOnlyList<ResponseItem> conversation, ResponseOptions options)
    {
        JsonObject? kwargs = options.EnableThinking is { } thinking ? new JsonObject { ["enable_thinking"] = thinking } : null;
        return new ChatCompletionRequest
        {
            Model = request.Model,
            Messages = Messages(instructions, conversation),
            Tools = options.ToolCalls.Tools is { } tools ? JsonSerializer.SerializeToElement(tools) : null,
            ChatTemplateKwargs = kwargs is null ? null : JsonSerializer.SerializeToElement(kwargs),
            MaxCompletionTokens = request.MaxOutputTokens,
            Temperature = request.Temperature,
            TopP = request.TopP,
            Seed = request.Seed,
            User = request.User,
        };
    }

    /// <summary>
    /// The prompt's token ids, with the tools <see cref="ResponseOptions"/> read (not parsed again from the chat request);
    /// the template's and the tokenizer's complaints name <c>input</c>.
    /// </summary>
    public static IReadOnlyList<int> Encode(ServedModel model, ChatCompletionRequest chat, ChatToolRequest tools, CancellationToken cancellation)
    {
        try
        {
            return ChatPrompts.Encode(model, chat, tools, cancellation);
        }
        catch (ApiException e) when (e.Param is { } param && param.StartsWith("messages", StringComparison.Ordinal))
        {
            throw ApiException.Invalid(e.Message.Replace("messages", "input", StringComparison.Ordinal), "input");
        }
        catch (ApiException e) when (e.Param == "chat_template_kwargs")
        {
            throw ApiException.Invalid(e.Message, "reasoning");
        }
    }

    private static List<ChatMessage> Messages(string? instructions, IReadOnlyList<ResponseItem> conversation)
    {
        var messages = new List<Turn>();
        if (instructions is not null) messages.Add(new Turn("system", instructions));
        var functionNames = new Dictionary<string, string>(StringComparer.Ordinal);
        string? reasoning = null;
        foreach (var item in conversation)
        {
            switch (item)
            {
                case MessageItem message:
                    string role = message.Role == "developer" ? "system" : message.Role;
                    var turn = new Turn(role, Text(message.Content));
                    if (role == "assistant") (turn.Reasoning, reasoning) = (reasoning, null);
                    messages.Add(turn);
                    break;
                case FunctionCallItem call:
                    functionNames[call.CallId] = call.Name;
                    if (messages.Count == 0 || messages[^1].Role != "assistant")
                    {
                        messages.Add(new Turn("assistant", "") { Reasoning = reasoning });
                        reasoning = null;
                    }
                    messages[^1].ToolCalls.Add(new JsonObject
                    {
                        ["id"] = call.CallId,
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.Arguments },
                    });
                    break;
                case FunctionCallOutputItem output:
                    messages.Add(new Turn("tool", output.Output) { ToolCallId = output.CallId, Name = functionNames.GetValueOrDefault(output.CallId) });
                    break;
                case ReasoningItem thought:
                    var parts = thought.Content.Count > 0 ? thought.Content : thought.Summary;
                    reasoning = string.Concat(reasoning, Text(parts));
                    break;
            }
        }
        return messages.Select(m => new ChatMessage
        {
            Role = m.Role,
            Content = JsonSerializer.SerializeToElement(m.Content),
            Name = m.Name,
            ToolCalls = m.ToolCalls.Count == 0 ? null : JsonSerializer.SerializeToElement(new JsonArray(m.ToolCalls.ToArray<JsonNode?>())),
            ToolCallId = m.ToolCallId,
            ReasoningContent = m.Reasoning,
        }).ToList();
    }

    // Parts joined one per line, as chat joins text parts.
    private static string Text(IEnumerable<ContentPart> parts) => string.Join('\n', parts.Select(p => p switch
    {
        InputTextPart t => t.Text,
        OutputTextPart t => t.Text,
        RefusalPart r => r.Refusal,
        ReasoningTextPart r => r.Text,
        SummaryTextPart s => s.Text,
        _ => "",
    }));

    private sealed record Turn(string Role, string Content)
    {
        public List<JsonObject> ToolCalls { get; } = [];
        public string? ToolCallId { get; init; }
        public string? Name { get; init; }
        public string? Reasoning { get; set; }
    }
}
