using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Core.Tokenization;
using GenAI.Server.Hosting;

namespace GenAI.Server.Api;

/// <summary>
/// A chat request's prompt as the model sees it: the conversation, tools and template kwargs rendered by the model's
/// chat template, then encoded (a model template's special tokens become their ids, as apply_chat_template does).
/// Shared by the chat endpoint and <c>/tokenize</c>, so both give the same ids.
/// </summary>
public static class ChatPrompts
{
    private static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant", "tool"];

    /// <summary>The prompt's token ids; invalid fields are a 400 naming them; encoding stops when <paramref name="cancellationToken"/> fires.</summary>
    public static IReadOnlyList<int> Encode(ServedModel model, IChatPromptFields request, CancellationToken cancellationToken) =>
        EncodeRendered(model, Render(model, request, null), cancellationToken);

    /// <summary>
    /// As <see cref="Encode(ServedModel, IChatPromptFields, CancellationToken)"/>, with the request's <c>tools</c> already
    /// read by <see cref="ChatToolRequest.Parse"/> (the chat endpoint's), so they are not parsed again.
    /// </summary>
    public static IReadOnlyList<int> Encode(ServedModel model, IChatPromptFields request, ChatToolRequest tools, CancellationToken cancellationToken) =>
        EncodeRendered(model, Render(model, request, tools), cancellationToken);

    private static IReadOnlyList<int> EncodeRendered(ServedModel model, string prompt, CancellationToken cancellationToken)
    {
        if (!model.ChatTemplate.IsModelTemplate) return ModelResolver.Encode(model, prompt, "messages", cancellationToken);
        try
        {
            return model.Tokenizer.EncodeWithSpecialTokens(prompt, cancellationToken);
        }
        catch (UnknownTokenException e)
        {
            throw ApiException.Invalid($"messages: {e.Message}", "messages");
        }
    }

    /// <summary>The rendered prompt text.</summary>
    public static string Render(ServedModel model, IChatPromptFields request) => Render(model, request, null);

    // Parsed tools, when given, are taken where the field would be read, so errors come in the same order either way.
    private static string Render(ServedModel model, IChatPromptFields request, ChatToolRequest? tools)
    {
        var messages = Messages(request.Messages);
        var options = new ChatRenderOptions
        {
            Tools = tools is null ? Tools(request.Tools) : tools.Tools,
            TemplateKwargs = Kwargs(request.ChatTemplateKwargs),
            AddGenerationPrompt = request.AddGenerationPrompt ?? true,
        };
        try
        {
            return model.ChatTemplate.Render(messages, options);
        }
        catch (ArgumentException e)
        {
            string field = e.Message.Contains("chat_template_kwargs", StringComparison.Ordinal) ? "chat_template_kwargs" : "messages";
            throw ApiException.Invalid(e.Message, field);
        }
    }

    private static List<JsonObject> Messages(List<ChatMessage>? messages)
    {
        if (messages is null || messages.Count == 0) throw ApiException.Invalid("messages must be a non-empty list", "messages");
        var result = new List<JsonObject>(messages.Count);
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m is null) throw ApiException.Invalid($"messages[{i}] must be an object", $"messages[{i}]");
            if (m.Role is null || !Roles.Contains(m.Role)) throw ApiException.Invalid($"messages[{i}].role must be one of {string.Join(", ", Roles)}", $"messages[{i}].role");
            var message = new JsonObject { ["role"] = m.Role, ["content"] = Content(m.Content, i) };
            if (m.Name is not null) message["name"] = m.Name;
            if (m.ToolCalls is { ValueKind: not JsonValueKind.Null } calls && !(calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() == 0))
            {
                if (m.Role != "assistant") throw ApiException.Invalid($"messages[{i}].tool_calls is only for assistant messages", $"messages[{i}].tool_calls");
                message["tool_calls"] = ToolCalls(calls, i);
            }
            if (m.ToolCallId is not null) message["tool_call_id"] = m.ToolCallId;
            if (m.ReasoningContent is not null) message["reasoning_content"] = m.ReasoningContent;
            result.Add(message);
        }
        return result;
    }

    // Text parts are joined into one string, one part per line, as vLLM does for templates that read content as text;
    // a null content (an assistant message that only calls tools) is empty text, which every template handles.
    private static string Content(JsonElement? content, int index)
    {
        string field = $"messages[{index}].content";
        if (content is not { } c || c.ValueKind == JsonValueKind.Null) return "";
        if (c.ValueKind == JsonValueKind.String) return c.GetString()!;
        if (c.ValueKind == JsonValueKind.Array)
        {
            var text = new List<string>();
            foreach (var part in c.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.GetString() != "text"
                    || !part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                {
                    throw ApiException.Invalid($"{field} parts must be {{\"type\": \"text\", \"text\": ...}} (this model reads text only)", field);
                }
                text.Add(t.GetString()!);
            }
            return string.Join('\n', text);
        }
        throw ApiException.Invalid($"{field} must be a string or a list of text parts", field);
    }

    private static JsonArray ToolCalls(JsonElement calls, int index)
    {
        string field = $"messages[{index}].tool_calls";
        if (calls.ValueKind != JsonValueKind.Array) throw ApiException.Invalid($"{field} must be a list", field);
        int j = 0;
        foreach (var call in calls.EnumerateArray())
        {
            string callField = $"{field}[{j++}]";
            if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
                || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                throw ApiException.Invalid($"{callField} must be {{\"id\", \"type\": \"function\", \"function\": {{\"name\", \"arguments\"}}}}", callField);
            }
        }
        var result = JsonArray.Create(calls.Clone())!;
        foreach (var call in result)
        {
            // As vLLM: arguments left empty or null mean no arguments; a string is parsed into an object by ChatTemplate.
            var function = call!["function"]!.AsObject();
            if (!function.TryGetPropertyValue("arguments", out var arguments) || arguments is null
                || arguments.GetValueKind() == JsonValueKind.String && string.IsNullOrWhiteSpace(arguments.GetValue<string>()))
            {
                function["arguments"] = new JsonObject();
            }
        }
        return result;
    }

    private static JsonArray? Tools(JsonElement? tools) => ChatToolRequest.ParseTools(tools).Array;

    private static JsonObject? Kwargs(JsonElement? kwargs)
    {
        if (kwargs is not { } k || k.ValueKind == JsonValueKind.Null) return null;
        if (k.ValueKind != JsonValueKind.Object) throw ApiException.Invalid("chat_template_kwargs must be an object", "chat_template_kwargs");
        return JsonObject.Create(k.Clone());
    }
}
