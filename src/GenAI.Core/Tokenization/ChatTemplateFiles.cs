using System.Text.Json;

namespace GenAI.Core.Tokenization;

/// <summary>
/// Where a Hugging Face model folder keeps its chat templates and special tokens, read as transformers reads them:
/// <c>chat_template.jinja</c> (newer transformers save the template there, and it wins over the config), else
/// <c>chat_template.json</c> (<c>{"chat_template": ...}</c>, as processors save it), else
/// <c>tokenizer_config.json</c>'s <c>chat_template</c> (a string, or a list of <c>{name, template}</c>); named
/// extras in <c>additional_chat_templates/*.jinja</c>. (The special-token strings templates see are the
/// tokenizer's: <see cref="HuggingFace.TokenizerConfig"/>.)
/// </summary>
internal static class ChatTemplateFiles
{
    /// <summary>The template file newer transformers save.</summary>
    public const string JinjaFile = "chat_template.jinja";

    /// <summary>The template file processors save (<c>{"chat_template": ...}</c>).</summary>
    public const string JsonFile = "chat_template.json";

    /// <summary>The folder of named templates (<c>tool_use.jinja</c>, ...).</summary>
    public const string AdditionalTemplatesFolder = "additional_chat_templates";

    /// <summary>One template's text and the file it came from (for error messages).</summary>
    public sealed record Source(string Text, string Origin);

    /// <summary>The folder's templates by name ("default" for the unnamed one); empty when it has none.</summary>
    public static Dictionary<string, Source> ReadTemplates(string folder)
    {
        var templates = new Dictionary<string, Source>(StringComparer.Ordinal);
        string jinja = Path.Combine(folder, JinjaFile);
        string json = Path.Combine(folder, JsonFile);
        string config = Path.Combine(folder, HuggingFace.TokenizerConfig.FileName);
        if (File.Exists(jinja))
        {
            templates["default"] = new Source(File.ReadAllText(jinja), jinja);
        }
        else if (File.Exists(json))
        {
            AddFromJson(templates, json);
        }
        else if (File.Exists(config))
        {
            AddFromJson(templates, config);
        }
        string extras = Path.Combine(folder, AdditionalTemplatesFolder);
        if (Directory.Exists(extras))
        {
            foreach (string file in Directory.EnumerateFiles(extras, "*.jinja").Order(StringComparer.Ordinal))
            {
                templates.TryAdd(Path.GetFileNameWithoutExtension(file), new Source(File.ReadAllText(file), file));
            }
        }
        return templates;
    }

    private static void AddFromJson(Dictionary<string, Source> templates, string path)
    {
        using var doc = ParseJson(path);
        if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("chat_template", out var template)) return;
        switch (template.ValueKind)
        {
            case JsonValueKind.String:
                templates["default"] = new Source(template.GetString()!, path);
                break;
            case JsonValueKind.Array:
                foreach (var entry in template.EnumerateArray())
                {
                    if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                        || !entry.TryGetProperty("template", out var text) || text.ValueKind != JsonValueKind.String)
                    {
                        throw new InvalidDataException($"{path}: chat_template: each entry of the list must be {{\"name\": ..., \"template\": ...}}");
                    }
                    templates[name.GetString()!] = new Source(text.GetString()!, path);
                }
                break;
            case JsonValueKind.Null:
                break;
            default:
                throw new InvalidDataException($"{path}: chat_template must be a string or a list of named templates");
        }
    }

    private static JsonDocument ParseJson(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON: {e.Message}", e);
        }
    }
}
