using System.Text.Json;
using Json.Schema;

namespace GenAI.Server.Tests;

/// <summary>
/// response_format through the API: json_schema and json_object on chat and completions (whole, streamed, n choices,
/// log-probs) always parse and validate on random-weight models with byte-level (Qwen3) and SentencePiece (Mistral)
/// vocabularies — served as 1024-position copies, so the values fit — and bad or unsupported schemas are a 400 whose
/// message names the keyword and its path.
/// </summary>
public sealed class StructuredOutputTests(StructuredOutputTests.Servers servers) : IClassFixture<StructuredOutputTests.Servers>
{
    public sealed class Servers : IDisposable
    {
        public Servers() => Factory = ServerFactory.With(new()
        {
            ["GenAI:Models:0"] = TestPaths.DecoderModelWithContext("qwen3-tiny", 1024),
            ["GenAI:Models:1"] = TestPaths.DecoderModelWithContext("mistral-tiny", 1024),
            ["GenAI:Models:2"] = TestPaths.Gpt2Tiny,
        });

        public ServerFactory Factory { get; }

        public void Dispose() => Factory.Dispose();
    }

    private const string Qwen = "qwen3-tiny-ctx1024";
    private const string Mistral = "mistral-tiny-ctx1024";

    internal const string Schema = """
        {"type": "object", "properties": {
           "name": {"type": "string", "maxLength": 10},
           "age": {"type": "integer", "minimum": 0, "maximum": 120},
           "email": {"type": ["string", "null"], "format": "uuid"},
           "mood": {"enum": ["happy", "sad"]},
           "scores": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 10}, "minItems": 1, "maxItems": 3}
         }, "required": ["name", "age", "email", "mood", "scores"], "additionalProperties": false}
        """;

    private static string JsonSchemaFormat(string schema) => $$$"""{"type": "json_schema", "json_schema": {"name": "person", "schema": {{{schema}}}, "strict": true}}""";

    internal static void AssertValidates(string text, string? schema)
    {
        JsonElement value;
        try
        {
            value = JsonDocument.Parse(text).RootElement;
        }
        catch (JsonException e)
        {
            Assert.Fail($"not JSON ({e.Message}): {text}");
            return;
        }
        if (schema is null) return;
        var results = JsonSchema.FromText(schema).Evaluate(value, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        Assert.True(results.IsValid, "does not validate: " + text);
    }

    [Theory]
    [InlineData(Qwen)]
    [InlineData(Mistral)]
    public async Task ChatJsonSchemaChoicesAlwaysValidate(string model)
    {
        var client = await servers.Factory.ReadyClientAsync();
        var (status, body) = await Http.PostAsync(client, "/v1/chat/completions", $$"""
            {"model": "{{model}}", "messages": [{"role": "user", "content": "Describe a person."}], "n": 3, "seed": 5,
             "temperature": 1.0, "max_completion_tokens": 400, "response_format": {{JsonSchemaFormat(Schema)}} }
            """);
        Assert.Equal(200, status);
        foreach (var choice in body.GetProperty("choices").EnumerateArray())
        {
            Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
            AssertValidates(choice.GetProperty("message").GetProperty("content").GetString()!, Schema);
        }
    }

    [Fact]
    public async Task StreamedChatEqualsTheWholeOneAndLogprobsComeAlong()
    {
        var client = await servers.Factory.ReadyClientAsync();
        string request = $$"""
            {"model": "{{Qwen}}", "messages": [{"role": "user", "content": "Hi"}], "temperature": 0, "max_tokens": 400,
             "logprobs": true, "top_logprobs": 3, "response_format": {{JsonSchemaFormat(Schema)}}
            """;
        var (_, whole) = await Http.PostAsync(client, "/v1/chat/completions", request + "}");
        string content = whole.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        AssertValidates(content, Schema);
        var logprobs = whole.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content");
        Assert.True(logprobs.GetArrayLength() > 0);
        Assert.All(logprobs.EnumerateArray(), lp => Assert.InRange(lp.GetProperty("top_logprobs").GetArrayLength(), 1, 3));

        var (_, stream) = await Http.StreamAsync(client, "/v1/chat/completions", request + """, "stream": true}""");
        var events = Http.DataEvents(stream);
        string streamed = string.Concat(events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices"))
            .Where(c => c.GetArrayLength() > 0).Select(c => c[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("content", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : ""));
        Assert.Equal(content, streamed);
    }

    [Theory]
    [InlineData(Qwen)]
    [InlineData(Mistral)]
    public async Task CompletionsJsonObjectParsesOrIsCutByLength(string model)
    {
        var client = await servers.Factory.ReadyClientAsync();
        var (status, body) = await Http.PostAsync(client, "/v1/completions", $$"""
            {"model": "{{model}}", "prompt": "JSON:", "n": 2, "seed": 1, "max_tokens": 60, "response_format": {"type": "json_object"} }
            """);
        Assert.Equal(200, status);
        foreach (var choice in body.GetProperty("choices").EnumerateArray())
        {
            string text = choice.GetProperty("text").GetString()!;
            Assert.StartsWith("{", text);
            if (choice.GetProperty("finish_reason").GetString() == "stop") AssertValidates(text, null);
            else Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        }
        var (_, boolean) = await Http.PostAsync(client, "/v1/completions", $$"""
            {"model": "{{model}}", "prompt": "JSON:", "max_tokens": 60, "response_format": {{JsonSchemaFormat(Boolean)}}
            }
            """);
        Assert.Contains(boolean.GetProperty("choices")[0].GetProperty("text").GetString(), new[] { "true", "false" });
    }

    private const string Boolean = """{"type": "boolean"}""";

    [Fact]
    public async Task TextFormatIsUnconstrained()
    {
        var client = await servers.Factory.ReadyClientAsync();
        string request = """{"model": "gpt2-tiny", "prompt": "Hello", "max_tokens": 5, "temperature": 0""";
        var (_, plain) = await Http.PostAsync(client, "/v1/completions", request + "}");
        var (_, text) = await Http.PostAsync(client, "/v1/completions", request + """, "response_format": {"type": "text"}}""");
        Assert.Equal(plain.GetProperty("choices")[0].GetProperty("text").GetString(), text.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("""{"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object", "properties": {"age": {"type": "integer", "multipleOf": 5}}}}}""",
        "response_format.json_schema.schema.properties.age: keyword 'multipleOf' is not supported")]
    [InlineData("""{"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "string", "format": "email"}}}""",
        "response_format.json_schema.schema.format: format 'email' is not supported")]
    [InlineData("""{"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "strin"}}}""", "unknown type 'strin'")]
    [InlineData("""{"type": "json_schema", "json_schema": {"name": "p", "schema": 5}}""", "a schema must be an object or a boolean")]
    [InlineData("""{"type": "json_schema", "json_schema": {"name": "p"}}""", "response_format.json_schema.schema is required")]
    [InlineData("""{"type": "json_schema"}""", "response_format.json_schema is required")]
    [InlineData("""{"type": "json_schema", "json_schema": {"name": "bad name!", "schema": {}}}""", "response_format.json_schema.name")]
    [InlineData("""{"type": "xml"}""", "response_format.type must be text, json_object or json_schema")]
    [InlineData("""{}""", "response_format.type is required")]
    public async Task BadOrUnsupportedFormatsAre400sNamingTheField(string format, string message)
    {
        var client = await servers.Factory.ReadyClientAsync();
        var response = await Http.PostAsync(client, "/v1/chat/completions", $$"""
            {"model": "{{Qwen}}", "messages": [{"role": "user", "content": "Hi"}], "response_format": {{format}}
            }
            """);
        Http.AssertError(400, response, "response_format");
        Assert.Contains(message, response.Body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task BeamSearchWithAFormatIsRefused()
    {
        var client = await servers.Factory.ReadyClientAsync();
        var response = await Http.PostAsync(client, "/v1/completions", $$"""
            {"model": "{{Qwen}}", "prompt": "Hi", "use_beam_search": true, "n": 2, "response_format": {"type": "json_object"}
            }
            """);
        Http.AssertError(400, response, "response_format");
        var wrongType = await Http.PostAsync(client, "/v1/completions", $$"""{"model": "{{Qwen}}", "prompt": "Hi", "response_format": {"type": 5} }""");
        Http.AssertError(400, wrongType, "response_format.type");
    }

    [Fact]
    public async Task SwaggerDocumentsTheField()
    {
        var client = await servers.Factory.ReadyClientAsync();
        var (status, swagger) = await Http.GetAsync(client, "/swagger/v1/swagger.json");
        Assert.Equal(200, status);
        var schemas = swagger.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty("ChatCompletionRequest").GetProperty("properties").TryGetProperty("response_format", out _));
        Assert.True(schemas.GetProperty("ResponseFormat").GetProperty("properties").TryGetProperty("json_schema", out _));
        Assert.Contains("$ref", schemas.GetProperty("ResponseFormat").GetProperty("description").GetString()); // the coverage is documented
    }
}
