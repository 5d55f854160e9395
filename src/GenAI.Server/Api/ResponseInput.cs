using System.Text.Json;

namespace GenAI.Server.Api;

/// <summary>
/// A Responses request's <c>input</c> as conversation items: a string is one user message; a list holds messages
/// (with or without <c>"type": "message"</c>), <c>function_call</c>, <c>function_call_output</c> and <c>reasoning</c>
/// items. Every way an item can be wrong is a 400 naming it (<c>input[2].call_id</c>); items without an id get one.
/// </summary>
public static class ResponseInput
{
    private static readonly HashSet<string> Roles = ["user", "system", "developer", "assistant"];

    /// <summary>The input's items, validated.</summary>
    public static List<ResponseItem> Parse(JsonElement? input)
    {
        if (input is not { } value || value.ValueKind == JsonValueKind.Null) throw ApiException.Invalid("input is required: a string or a list of items", "input");
        if (value.ValueKind == JsonValueKind.String)
        {
            return [new MessageItem { Id = ResponseIds.New("msg"), Role = "user", Content = [new InputTextPart(value.GetString()!)] }];
        }
        if (value.ValueKind != JsonValueKind.Array) throw ApiException.Invalid("input must be a string or a list of items", "input");
        if (value.GetArrayLength() == 0) throw ApiException.Invalid("input must not be an empty list", "input");
        var items = new List<ResponseItem>();
        int i = 0;
        foreach (var element in value.EnumerateArray()) items.Add(Item(element, $"input[{i++}]"));
        return items;
    }

    private static ResponseItem Item(JsonElement item, string field)
    {
        if (item.ValueKind != JsonValueKind.Object) throw ApiException.Invalid($"{field} must be an object", field);
        string type = OptionalString(item, "type", field) ?? "message";
        string? id = OptionalString(item, "id", field);
        switch (type)
        {
            case "message":
                string role = OptionalString(item, "role", field) ?? throw ApiException.Invalid($"{field}.role is required", $"{field}.role");
                if (!Roles.Contains(role)) throw ApiException.Invalid($"{field}.role must be one of {string.Join(", ", Roles)}, not '{role}'", $"{field}.role");
                return new MessageItem { Id = id ?? ResponseIds.New("msg"), Role = role, Content = Content(item, role, $"{field}.content") };
            case "function_call":
                string arguments = OptionalString(item, "arguments", field) ?? "{}";
                try
                {
                    using var parsed = JsonDocument.Parse(string.IsNullOrWhiteSpace(arguments) ? "{}" : arguments);
                    if (parsed.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("not an object");
                }
                catch (JsonException)
                {
                    throw ApiException.Invalid($"{field}.arguments must be a JSON object, as a string", $"{field}.arguments");
                }
                return new FunctionCallItem
                {
                    Id = id ?? ResponseIds.New("fc"), CallId = RequiredString(item, "call_id", field), Name = RequiredString(item, "name", field), Arguments = arguments,
                };
            case "function_call_output":
                return new FunctionCallOutputItem { Id = id ?? ResponseIds.New("fco"), CallId = RequiredString(item, "call_id", field), Output = Output(item, field) };
            case "reasoning":
                return new ReasoningItem
                {
                    Id = id ?? ResponseIds.New("rs"),
                    Content = Texts(item, "content", "reasoning_text", field).Select(t => (ContentPart)new ReasoningTextPart(t)).ToList(),
                    Summary = Texts(item, "summary", "summary_text", field).Select(t => (ContentPart)new SummaryTextPart(t)).ToList(),
                };
            case "item_reference":
                throw ApiException.Invalid($"{field}: item references are not supported; send the item itself, or continue a stored response with previous_response_id", $"{field}.type");
            default:
                throw ApiException.Invalid($"{field}.type '{type}' is not supported: message, function_call, function_call_output or reasoning", $"{field}.type");
        }
    }

    // A string or a list of text parts; an assistant's text is output_text, anyone else's input_text.
    private static List<ContentPart> Content(JsonElement item, string role, string field)
    {
        ContentPart Text(string text) => role == "assistant" ? new OutputTextPart(text) : new InputTextPart(text);
        if (!item.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null) throw ApiException.Invalid($"{field} is required", field);
        if (content.ValueKind == JsonValueKind.String) return [Text(content.GetString()!)];
        if (content.ValueKind != JsonValueKind.Array) throw ApiException.Invalid($"{field} must be a string or a list of parts", field);
        var parts = new List<ContentPart>();
        int j = 0;
        foreach (var part in content.EnumerateArray())
        {
            string partField = $"{field}[{j++}]";
            if (part.ValueKind != JsonValueKind.Object) throw ApiException.Invalid($"{partField} must be an object", partField);
            string type = OptionalString(part, "type", partField) ?? throw ApiException.Invalid($"{partField}.type is required", $"{partField}.type");
            parts.Add(type switch
            {
                "input_text" or "output_text" => Text(RequiredString(part, "text", partField)),
                "refusal" => new RefusalPart(RequiredString(part, "refusal", partField)),
                "input_image" or "input_file" or "input_audio" => throw ApiException.Invalid($"{partField}: this server's models read text only ({type} is not supported)", $"{partField}.type"),
                _ => throw ApiException.Invalid($"{partField}.type '{type}' is not supported: input_text, output_text or refusal", $"{partField}.type"),
            });
        }
        return parts;
    }

    // A function call's output: a string, or text parts joined.
    private static string Output(JsonElement item, string field)
    {
        if (!item.TryGetProperty("output", out var output)) throw ApiException.Invalid($"{field}.output is required", $"{field}.output");
        if (output.ValueKind == JsonValueKind.String) return output.GetString()!;
        if (output.ValueKind == JsonValueKind.Array) return string.Join('\n', Texts(item, "output", "input_text", field));
        throw ApiException.Invalid($"{field}.output must be a string or a list of input_text parts", $"{field}.output");
    }

    // The texts of a list of {"type": partType, "text"} parts (absent or null: none).
    private static List<string> Texts(JsonElement item, string name, string partType, string field)
    {
        if (!item.TryGetProperty(name, out var list) || list.ValueKind == JsonValueKind.Null) return [];
        string listField = $"{field}.{name}";
        if (list.ValueKind != JsonValueKind.Array) throw ApiException.Invalid($"{listField} must be a list of {partType} parts", listField);
        var texts = new List<string>();
        int j = 0;
        foreach (var part in list.EnumerateArray())
        {
            string partField = $"{listField}[{j++}]";
            if (part.ValueKind != JsonValueKind.Object || OptionalString(part, "type", partField) != partType)
            {
                throw ApiException.Invalid($"{partField} must be {{\"type\": \"{partType}\", \"text\": ...}}", partField);
            }
            texts.Add(RequiredString(part, "text", partField));
        }
        return texts;
    }

    private static string RequiredString(JsonElement owner, string name, string field) =>
        OptionalString(owner, name, field) ?? throw ApiException.Invalid($"{field}.{name} is required", $"{field}.{name}");

    private static string? OptionalString(JsonElement owner, string name, string field)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw ApiException.Invalid($"{field}.{name} must be a string", $"{field}.{name}");
        return value.GetString();
    }
}

/// <summary>Ids of responses and their items, shaped as OpenAI's: a prefix, <c>_</c> and random characters.</summary>
public static class ResponseIds
{
    /// <summary><paramref name="prefix"/>, <c>_</c> and 32 hex digits (<c>resp</c>, <c>msg</c>, <c>fc</c>, <c>rs</c>, ...).</summary>
    public static string New(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N");
}
