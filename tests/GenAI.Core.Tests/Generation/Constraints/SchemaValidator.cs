using System.Text.Json;
using Json.Schema;

namespace GenAI.Core.Tests.Generation.Constraints;

/// <summary>An independent check of constrained outputs: System.Text.Json parses them, JsonSchema.Net validates them (formats too).</summary>
internal sealed class SchemaValidator
{
    private readonly JsonSchema? _schema;

    private SchemaValidator(JsonSchema? schema) => _schema = schema;

    public static SchemaValidator For(string? schema) => new(schema is null ? null : JsonSchema.FromText(schema));

    /// <summary>Parses <paramref name="text"/> (System.Text.Json's defaults: depth 64, no trailing commas) and validates it.</summary>
    public JsonElement AssertValid(string text)
    {
        JsonElement value;
        try
        {
            using var document = JsonDocument.Parse(text);
            value = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            Assert.Fail($"not JSON ({e.Message}): {text}");
            throw;
        }
        if (_schema is not null)
        {
            var results = _schema.Evaluate(value, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
            if (!results.IsValid)
            {
                var errors = (results.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
                Assert.Fail($"does not validate ({string.Join("; ", errors)}): {text}");
            }
        }
        return value;
    }
}
