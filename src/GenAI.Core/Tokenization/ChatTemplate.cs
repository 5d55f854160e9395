using System.Text;
using System.Text.Json;
using GenAI.Core.Tokenization.Templates;

namespace GenAI.Core.Tokenization;

/// <summary>One chat message.</summary>
/// <param name="Role">system, developer, user, assistant or tool.</param>
/// <param name="Content">Its text.</param>
public sealed record ChatTurn(string Role, string Content);

/// <summary>
/// Turns a conversation into prompt text: the model's own <c>chat_template</c> from <c>tokenizer_config.json</c>
/// (Hugging Face's Jinja, run by <see cref="JinjaTemplate"/> with <c>messages</c>, <c>add_generation_prompt</c>,
/// <c>bos_token</c>, <c>eos_token</c>), or, for a model without one, GenAI's plain default:
/// <c>System: …\nUser: …\nAssistant: …\n…Assistant:</c>, which also asks generation to stop at <c>\nUser:</c>.
/// </summary>
public sealed class ChatTemplate
{
    private readonly JinjaTemplate? _template;
    private readonly string? _bos;
    private readonly string? _eos;

    private ChatTemplate(JinjaTemplate? template, string? bos, string? eos)
    {
        _template = template;
        _bos = bos;
        _eos = eos;
    }

    /// <summary>True when the model's own template is used.</summary>
    public bool IsModelTemplate => _template is not null;

    /// <summary>Stop strings the template needs (the default template's next-turn marker).</summary>
    public IReadOnlyList<string> Stops => _template is null ? ["\nUser:"] : [];

    /// <summary>GenAI's plain default template.</summary>
    public static ChatTemplate Default { get; } = new(null, null, null);

    /// <summary>The template of a model folder (its <c>tokenizer_config.json</c>'s <c>chat_template</c>), or the default.</summary>
    public static ChatTemplate Load(string modelDirectory)
    {
        string path = Path.Combine(modelDirectory, "tokenizer_config.json");
        if (!File.Exists(path)) return Default;
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        if (!root.TryGetProperty("chat_template", out var template)) return Default;
        string? source = template.ValueKind switch
        {
            JsonValueKind.String => template.GetString(),
            // A list of named templates: the one named "default".
            JsonValueKind.Array => template.EnumerateArray()
                .Where(t => t.TryGetProperty("name", out var n) && n.GetString() == "default")
                .Select(t => t.GetProperty("template").GetString()).FirstOrDefault(),
            _ => null,
        };
        if (string.IsNullOrEmpty(source)) return Default;
        try
        {
            return new ChatTemplate(JinjaTemplate.Parse(source), TokenText(root, "bos_token"), TokenText(root, "eos_token"));
        }
        catch (TemplateException e)
        {
            throw new InvalidDataException($"{path}: chat_template: {e.Message}", e);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentOutOfRangeException or InvalidOperationException or FormatException)
        {
            // The parser's bounds checks are its last line of defence against a malformed template: still the file's fault.
            throw new InvalidDataException($"{path}: chat_template does not parse", e);
        }
    }

    /// <summary>The prompt text for <paramref name="messages"/>, ready for the assistant's reply.</summary>
    public string Render(IEnumerable<ChatTurn> messages)
    {
        if (_template is null) return RenderDefault(messages);
        var list = messages.Select(m => (object?)new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content }).ToList();
        var variables = new Dictionary<string, object?>
        {
            ["messages"] = list,
            ["add_generation_prompt"] = true,
            ["bos_token"] = _bos ?? "",
            ["eos_token"] = _eos ?? "",
            ["raise_exception"] = new Func<List<object?>, object?>(args => throw new ArgumentException(Values.ToText(args.FirstOrDefault()))),
        };
        try
        {
            return _template.Render(variables);
        }
        catch (TemplateException e)
        {
            throw new ArgumentException($"the model's chat template failed: {e.Message}", e);
        }
    }

    private static string RenderDefault(IEnumerable<ChatTurn> messages)
    {
        var prompt = new StringBuilder();
        foreach (var message in messages)
        {
            string label = message.Role switch
            {
                "system" or "developer" => "System",
                "assistant" => "Assistant",
                "tool" => "Tool",
                _ => "User",
            };
            prompt.Append(label).Append(": ").Append(message.Content.Trim()).Append('\n');
        }
        return prompt.Append("Assistant:").ToString();
    }

    private static string? TokenText(JsonElement root, string name) =>
        root.TryGetProperty(name, out var e)
            ? e.ValueKind == JsonValueKind.String ? e.GetString() : e.ValueKind == JsonValueKind.Object && e.TryGetProperty("content", out var c) ? c.GetString() : null
            : null;
}
