using System.Text.Json;

namespace GenAI.Server.Tests;

/// <summary>
/// The Responses API in-process on a random-weight Qwen3 (1024 positions): a response is the chat completion of the same
/// conversation (same prompt tokens, same greedy text), stored responses continue with previous_response_id, are read
/// back and deleted; streaming sends OpenAI's typed events; text.format and forced tool calls are valid by construction;
/// bad fields are 400s naming them.
/// </summary>
public sealed class ResponsesApiTests : IAsyncLifetime
{
    private const string Qwen = "qwen3-tiny-ctx1024";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "genai-responses-" + Guid.NewGuid().ToString("N"));
    private ServerFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _factory = ServerFactory.With(new()
        {
            ["GenAI:Models:0"] = TestPaths.DecoderModelWithContext("qwen3-tiny", 1024),
            ["GenAI:DataRoot"] = Path.Combine(_root, "data"),
            ["GenAI:InProcessWorker"] = "false",
        });
        _client = await _factory.ReadyClientAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private const string WeatherTool = """
        {"type": "function", "name": "get_weather", "description": "The weather in a city",
         "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}, "unit": {"enum": ["c", "f"]}},
                        "required": ["city", "unit"], "additionalProperties": false}}
        """;

    private const string WeatherParameters = """
        {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}, "unit": {"enum": ["c", "f"]}},
         "required": ["city", "unit"], "additionalProperties": false}
        """;

    private static string OutputText(JsonElement response) => string.Concat(response.GetProperty("output").EnumerateArray()
        .Where(i => i.GetProperty("type").GetString() == "message")
        .SelectMany(i => i.GetProperty("content").EnumerateArray()).Select(p => p.GetProperty("text").GetString()));

    private async Task<(int PromptTokens, string Text)> ChatAsync(string messages, int maxTokens, string extra = "")
    {
        var (status, chat) = await Http.PostAsync(_client, "/v1/chat/completions",
            $$"""{"model": "{{Qwen}}", "messages": {{messages}}, "temperature": 0, "max_completion_tokens": {{maxTokens}} {{extra}} }""");
        Assert.Equal(200, status);
        return (chat.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), chat.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!);
    }

    [Fact]
    public async Task AStatelessResponseIsTheChatCompletionOfItsConversation()
    {
        var (status, response) = await Http.PostAsync(_client, "/v1/responses", $$"""
            {"model": "{{Qwen}}", "input": "Tell me a story.", "instructions": "Be brief.", "temperature": 0, "max_output_tokens": 6, "store": false}
            """);
        Assert.Equal(200, status);
        var (promptTokens, text) = await ChatAsync("""[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Tell me a story."}]""", 6);

        Assert.StartsWith("resp_", response.GetProperty("id").GetString());
        Assert.Equal("response", response.GetProperty("object").GetString());
        Assert.Equal(Qwen, response.GetProperty("model").GetString());
        Assert.Equal(text, OutputText(response));
        var message = response.GetProperty("output")[0];
        Assert.Equal(("message", "assistant"), (message.GetProperty("type").GetString(), message.GetProperty("role").GetString()));
        Assert.StartsWith("msg_", message.GetProperty("id").GetString());
        var usage = response.GetProperty("usage");
        Assert.Equal(promptTokens, usage.GetProperty("input_tokens").GetInt32());
        int outputTokens = usage.GetProperty("output_tokens").GetInt32();
        Assert.InRange(outputTokens, 1, 6);
        Assert.Equal(promptTokens + outputTokens, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt32());
        // Cut by max_output_tokens: incomplete, as OpenAI says it; otherwise completed.
        string expected = outputTokens == 6 ? "incomplete" : "completed";
        Assert.Equal(expected, response.GetProperty("status").GetString());
        if (expected == "incomplete") Assert.Equal("max_output_tokens", response.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal(("Be brief.", 0.0, 6, false), (response.GetProperty("instructions").GetString(), response.GetProperty("temperature").GetDouble(),
            response.GetProperty("max_output_tokens").GetInt32(), response.GetProperty("store").GetBoolean()));

        Http.AssertError(404, await Http.GetAsync(_client, $"/v1/responses/{response.GetProperty("id").GetString()}"), "response_id"); // not stored
    }

    [Fact]
    public async Task AStoredResponseContinuesIsReadBackAndDeleted()
    {
        var (_, first) = await Http.PostAsync(_client, "/v1/responses", $$"""
            {"model": "{{Qwen}}", "input": "Hello there.", "instructions": "Only for the first turn.", "temperature": 0, "max_output_tokens": 5, "metadata": {"case": "chain"} }
            """);
        string firstId = first.GetProperty("id").GetString()!;
        Assert.True(first.GetProperty("store").GetBoolean()); // the default, as OpenAI's
        var (status, second) = await Http.PostAsync(_client, "/v1/responses", $$"""
            {"model": "{{Qwen}}", "previous_response_id": "{{firstId}}", "input": [{"role": "user", "content": [{"type": "input_text", "text": "And then?"}]}],
             "temperature": 0, "max_output_tokens": 5}
            """);
        Assert.Equal(200, status);
        Assert.Equal(firstId, second.GetProperty("previous_response_id").GetString());

        // The earlier turn's input and output are the history; its instructions are not carried over.
        string firstText = OutputText(first);
        var (promptTokens, text) = await ChatAsync($$"""
            [{"role": "user", "content": "Hello there."}, {"role": "assistant", "content": {{JsonSerializer.Serialize(firstText)}}}, {"role": "user", "content": "And then?"}]
            """, 5);
        Assert.Equal(promptTokens, second.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal(text, OutputText(second));

        var (getStatus, stored) = await Http.GetAsync(_client, $"/v1/responses/{firstId}");
        Assert.Equal(200, getStatus);
        Assert.Equal(first.GetRawText(), stored.GetRawText());
        Assert.Equal("chain", stored.GetProperty("metadata").GetProperty("case").GetString());

        var (itemsStatus, items) = await Http.GetAsync(_client, $"/v1/responses/{second.GetProperty("id").GetString()}/input_items?order=asc&limit=1");
        Assert.Equal(200, itemsStatus);
        var item = Assert.Single(items.GetProperty("data").EnumerateArray());
        Assert.Equal(("list", "And then?", false), (items.GetProperty("object").GetString(), item.GetProperty("content")[0].GetProperty("text").GetString(),
            items.GetProperty("has_more").GetBoolean()));
        Assert.Equal(item.GetProperty("id").GetString(), items.GetProperty("first_id").GetString());
        Http.AssertError(400, await Http.GetAsync(_client, $"/v1/responses/{firstId}/input_items?order=up"), "order");

        using (var deleted = await _client.DeleteAsync($"/v1/responses/{firstId}"))
        {
            using var body = JsonDocument.Parse(await deleted.Content.ReadAsStringAsync());
            Assert.Equal((firstId, "response", true), (body.RootElement.GetProperty("id").GetString(), body.RootElement.GetProperty("object").GetString(),
                body.RootElement.GetProperty("deleted").GetBoolean()));
        }
        Http.AssertError(404, await Http.GetAsync(_client, $"/v1/responses/{firstId}"), "response_id");
        using (var again = await _client.DeleteAsync($"/v1/responses/{firstId}")) Assert.Equal(404, (int)again.StatusCode);

        // The second response's conversation lost its first turn: continuing it is refused, as an unknown id is.
        var broken = await Http.PostAsync(_client, "/v1/responses", $$"""{"model": "{{Qwen}}", "previous_response_id": "{{second.GetProperty("id").GetString()}}", "input": "Hi"}""");
        Http.AssertError(400, broken, "previous_response_id");
        Assert.Equal("previous_response_not_found", broken.Body.GetProperty("error").GetProperty("code").GetString());
        var unknown = await Http.PostAsync(_client, "/v1/responses", $$"""{"model": "{{Qwen}}", "previous_response_id": "resp_unknown", "input": "Hi"}""");
        Http.AssertError(400, unknown, "previous_response_id");
        Assert.Contains("resp_unknown", unknown.Body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task ItemsToolsAndToolResultsRenderAsTheirChatMessages()
    {
        var (status, response) = await Http.PostAsync(_client, "/v1/responses", $$"""
            {"model": "{{Qwen}}", "temperature": 0, "max_output_tokens": 4, "store": false, "tools": [{{WeatherTool}}],
             "input": [
               {"type": "message", "role": "developer", "content": "Use tools."},
               {"role": "user", "content": [{"type": "input_text", "text": "Weather in Oslo?"}]},
               {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\": \"Oslo\", \"unit\": \"c\"}"},
               {"type": "function_call_output", "call_id": "call_1", "output": "-3 and snow"}]}
            """);
        Assert.Equal(200, status);
        var (promptTokens, text) = await ChatAsync("""
            [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Oslo?"},
             {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\", \"unit\": \"c\"}"}}]},
             {"role": "tool", "tool_call_id": "call_1", "content": "-3 and snow"}]
            """, 4, $$""", "tools": [{"type": "function", "function": {"name": "get_weather", "description": "The weather in a city", "parameters": {{WeatherParameters}} } }]""");
        Assert.Equal(promptTokens, response.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal(text, OutputText(response));
        var tool = response.GetProperty("tools")[0]; // echoed flat, as the Responses API has tools
        Assert.Equal(("function", "get_weather"), (tool.GetProperty("type").GetString(), tool.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task ReasoningEffortIsTheTemplatesEnableThinking()
    {
        var inputTokens = new List<int>();
        foreach (var (effort, thinking) in new[] { ("none", "false"), ("high", "true") })
        {
            var (status, response) = await Http.PostAsync(_client, "/v1/responses", $$"""
                {"model": "{{Qwen}}", "input": "Why?", "reasoning": {"effort": "{{effort}}"}, "temperature": 0, "max_output_tokens": 4, "store": false}
                """);
            Assert.Equal(200, status);
            var (promptTokens, text) = await ChatAsync("""[{"role": "user", "content": "Why?"}]""", 4, $$""", "chat_template_kwargs": {"enable_thinking": {{thinking}} }""");
            Assert.Equal(promptTokens, response.GetProperty("usage").GetProperty("input_tokens").GetInt32());
            Assert.Equal(text, OutputText(response));
            Assert.Equal(effort, response.GetProperty("reasoning").GetProperty("effort").GetString());
            inputTokens.Add(promptTokens);
        }
        Assert.True(inputTokens[0] > inputTokens[1]); // Qwen3's template closes an empty think block when thinking is off
    }

    [Fact]
    public async Task AStreamIsOpenAIsTypedEventsAndAddsUpToTheWholeResponse()
    {
        string request = $$"""{"model": "{{Qwen}}", "input": "Tell me a story.", "temperature": 0, "max_output_tokens": 8""";
        var (_, whole) = await Http.PostAsync(_client, "/v1/responses", request + "}");
        var (http, body) = await Http.StreamAsync(_client, "/v1/responses", request + """, "stream": true}""");
        Assert.Equal("text/event-stream", http.Content.Headers.ContentType?.MediaType);

        var events = new List<JsonElement>();
        foreach (string block in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Where(b => !b.StartsWith(':')))
        {
            var lines = block.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0]);
            Assert.StartsWith("data: ", lines[1]);
            var data = JsonDocument.Parse(lines[1]["data: ".Length..]).RootElement.Clone();
            Assert.Equal(lines[0]["event: ".Length..], data.GetProperty("type").GetString());
            events.Add(data);
        }
        Assert.DoesNotContain("[DONE]", body);
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.GetProperty("sequence_number").GetInt32()));
        var types = events.Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"], types[..4]);
        Assert.Equal(["response.output_text.done", "response.content_part.done", "response.output_item.done"], types[^4..^1]);
        Assert.Contains(types[^1], new[] { "response.completed", "response.incomplete" });
        Assert.Equal("in_progress", events[0].GetProperty("response").GetProperty("status").GetString());

        string streamed = string.Concat(events.Where(e => e.GetProperty("type").GetString() == "response.output_text.delta").Select(e => e.GetProperty("delta").GetString()));
        Assert.Equal(OutputText(whole), streamed);
        var final = events[^1].GetProperty("response");
        Assert.Equal(OutputText(whole), OutputText(final));
        Assert.Equal(whole.GetProperty("usage").GetRawText(), final.GetProperty("usage").GetRawText());
        // A streamed response is stored as well.
        var (status, stored) = await Http.GetAsync(_client, $"/v1/responses/{final.GetProperty("id").GetString()}");
        Assert.Equal(200, status);
        Assert.Equal(streamed, OutputText(stored));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public async Task TextFormatJsonSchemaAlwaysValidates(double temperature)
    {
        string schema = """
            {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}, "age": {"type": "integer", "minimum": 0, "maximum": 120},
             "mood": {"enum": ["happy", "sad"]}}, "required": ["name", "age", "mood"], "additionalProperties": false}
            """;
        foreach (int seed in new[] { 1, 2, 3 })
        {
            var (status, response) = await Http.PostAsync(_client, "/v1/responses", $$"""
                {"model": "{{Qwen}}", "input": "Describe a person.", "temperature": {{temperature}}, "seed": {{seed}}, "max_output_tokens": 300, "store": false,
                 "text": {"format": {"type": "json_schema", "name": "person", "schema": {{schema}}, "strict": true} } }
                """);
            Assert.Equal(200, status);
            Assert.Equal("completed", response.GetProperty("status").GetString());
            StructuredOutputTests.AssertValidates(OutputText(response), schema);
            Assert.Equal("person", response.GetProperty("text").GetProperty("format").GetProperty("name").GetString());
        }
        var (_, any) = await Http.PostAsync(_client, "/v1/responses", $$"""
            {"model": "{{Qwen}}", "input": "JSON please", "temperature": 1, "seed": 4, "max_output_tokens": 300, "text": {"format": {"type": "json_object"} } }
            """);
        if (any.GetProperty("status").GetString() == "completed") Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(OutputText(any)).RootElement.ValueKind);
        else Assert.StartsWith("{", OutputText(any));
    }

    [Fact]
    public async Task ForcedToolCallsAreValidCalls()
    {
        string tools = $$"""[{{WeatherTool}}, {"type": "function", "name": "now", "parameters": {"type": "object", "properties": {}, "additionalProperties": false} }]""";
        foreach (int seed in new[] { 1, 2 })
        {
            var (_, named) = await Http.PostAsync(_client, "/v1/responses", $$"""
                {"model": "{{Qwen}}", "input": "Weather?", "tools": {{tools}}, "tool_choice": {"type": "function", "name": "get_weather"}, "temperature": 1, "seed": {{seed}},
                 "max_output_tokens": 200, "store": false}
                """);
            var call = Assert.Single(named.GetProperty("output").EnumerateArray());
            Assert.Equal(("function_call", "get_weather", "completed"), (call.GetProperty("type").GetString(), call.GetProperty("name").GetString(), call.GetProperty("status").GetString()));
            Assert.StartsWith("call_", call.GetProperty("call_id").GetString());
            StructuredOutputTests.AssertValidates(call.GetProperty("arguments").GetString()!, WeatherParameters);
            Assert.Equal("get_weather", named.GetProperty("tool_choice").GetProperty("name").GetString());

            var (_, required) = await Http.PostAsync(_client, "/v1/responses", $$"""
                {"model": "{{Qwen}}", "input": "Weather?", "tools": {{tools}}, "tool_choice": "required", "parallel_tool_calls": false, "temperature": 1, "seed": {{seed}},
                 "max_output_tokens": 200, "store": false}
                """);
            var one = Assert.Single(required.GetProperty("output").EnumerateArray());
            Assert.Equal("function_call", one.GetProperty("type").GetString());
            string name = one.GetProperty("name").GetString()!;
            Assert.Contains(name, new[] { "get_weather", "now" });
            StructuredOutputTests.AssertValidates(one.GetProperty("arguments").GetString()!, name == "now" ? """{"type": "object", "additionalProperties": false}""" : WeatherParameters);
        }

        // Parallel calls: a list of them; of a list max_output_tokens cuts, the complete calls are the output.
        var (_, parallel) = await Http.PostAsync(_client, "/v1/responses", $$"""
            {"model": "{{Qwen}}", "input": "Weather?", "tools": {{tools}}, "tool_choice": "required", "temperature": 1, "seed": 3, "max_output_tokens": 120, "store": false}
            """);
        var calls = parallel.GetProperty("output").EnumerateArray().ToList();
        Assert.NotEmpty(calls);
        foreach (var call in calls)
        {
            Assert.Equal(("function_call", "completed"), (call.GetProperty("type").GetString(), call.GetProperty("status").GetString()));
            StructuredOutputTests.AssertValidates(call.GetProperty("arguments").GetString()!,
                call.GetProperty("name").GetString() == "now" ? """{"type": "object", "additionalProperties": false}""" : WeatherParameters);
        }

        // Streamed: the call's item, its argument deltas adding up to the done event's arguments, then the completed response.
        var (_, body) = await Http.StreamAsync(_client, "/v1/responses", $$"""
            {"model": "{{Qwen}}", "input": "Weather?", "tools": {{tools}}, "tool_choice": {"type": "function", "name": "get_weather"}, "temperature": 1, "seed": 7,
             "max_output_tokens": 200, "store": false, "stream": true}
            """);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Where(b => !b.StartsWith(':'))
            .Select(b => JsonDocument.Parse(b.Split('\n')[1]["data: ".Length..]).RootElement.Clone()).ToList();
        var added = events.Single(e => e.GetProperty("type").GetString() == "response.output_item.added").GetProperty("item");
        Assert.Equal(("function_call", "get_weather", ""), (added.GetProperty("type").GetString(), added.GetProperty("name").GetString(), added.GetProperty("arguments").GetString()));
        string deltas = string.Concat(events.Where(e => e.GetProperty("type").GetString() == "response.function_call_arguments.delta").Select(e => e.GetProperty("delta").GetString()));
        var done = events.Single(e => e.GetProperty("type").GetString() == "response.function_call_arguments.done");
        Assert.Equal(deltas, done.GetProperty("arguments").GetString());
        StructuredOutputTests.AssertValidates(deltas, WeatherParameters);
        Assert.Equal("response.completed", events[^1].GetProperty("type").GetString());

        // A call cut by max_output_tokens is incomplete, and a stored one cannot be continued (its arguments are not JSON).
        var (_, cut) = await Http.PostAsync(_client, "/v1/responses", $$"""
            {"model": "{{Qwen}}", "input": "Weather?", "tools": {{tools}}, "tool_choice": {"type": "function", "name": "get_weather"}, "max_output_tokens": 2}
            """);
        Assert.Equal("incomplete", cut.GetProperty("status").GetString());
        Assert.Equal("incomplete", cut.GetProperty("output")[0].GetProperty("status").GetString());
        var continued = await Http.PostAsync(_client, "/v1/responses", $$"""{"model": "{{Qwen}}", "previous_response_id": "{{cut.GetProperty("id").GetString()}}", "input": "Hi"}""");
        Http.AssertError(400, continued, "previous_response_id");
    }

    [Theory]
    [InlineData("""{"model": "M"}""", "input")]
    [InlineData("""{"model": "M", "input": 5}""", "input")]
    [InlineData("""{"model": "M", "input": []}""", "input")]
    [InlineData("""{"model": "M", "input": [{"type": "bogus"}]}""", "input[0].type")]
    [InlineData("""{"model": "M", "input": [{"role": "robot", "content": "x"}]}""", "input[0].role")]
    [InlineData("""{"model": "M", "input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]}""", "input[0].content[0].type")]
    [InlineData("""{"model": "M", "input": [{"type": "function_call", "name": "f", "arguments": "{}"}]}""", "input[0].call_id")]
    [InlineData("""{"model": "M", "input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": "[1"}]}""", "input[0].arguments")]
    [InlineData("""{"model": "M", "input": "x", "tools": [{"type": "function", "function": {"name": "f"}}]}""", "tools[0].function")]
    [InlineData("""{"model": "M", "input": "x", "tools": [{"type": "web_search"}]}""", "tools[0].type")]
    [InlineData("""{"model": "M", "input": "x", "tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 2}}}}], "tool_choice": "required"}""", "tools[0].parameters")]
    // tool_choice auto compiles every schema as chat does (ChatToolRequest), naming chat's path.
    [InlineData("""{"model": "M", "input": "x", "tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 2}}}}]}""", "tools[0].function.parameters.properties.n")]
    [InlineData("""{"model": "M", "input": "x", "tool_choice": "required"}""", "tool_choice")]
    [InlineData("""{"model": "M", "input": "x", "tools": [{"type": "function", "name": "f"}], "tool_choice": {"type": "function", "name": "g"}}""", "tool_choice.name")]
    [InlineData("""{"model": "M", "input": "x", "tool_choice": "sometimes"}""", "tool_choice")]
    [InlineData("""{"model": "M", "input": "x", "text": {"format": {"type": "xml"}}}""", "text.format")]
    [InlineData("""{"model": "M", "input": "x", "text": {"format": {"type": "json_schema", "name": "p", "schema": {"type": "string", "format": "email"}}}}""", "text.format")]
    [InlineData("""{"model": "M", "input": "x", "text": {"format": {"type": "json_schema", "name": "p"}}}""", "text.format")]
    [InlineData("""{"model": "M", "input": "x", "max_output_tokens": 0}""", "max_output_tokens")]
    [InlineData("""{"model": "M", "input": "x", "max_output_tokens": 100000000}""", "max_output_tokens")]
    [InlineData("""{"model": "M", "input": "x", "temperature": 500}""", "temperature")]
    [InlineData("""{"model": "M", "input": "x", "top_p": 0}""", "top_p")]
    [InlineData("""{"model": "M", "input": "x", "truncation": "auto"}""", "truncation")]
    [InlineData("""{"model": "M", "input": "x", "background": true}""", "background")]
    [InlineData("""{"model": "M", "input": "x", "reasoning": {"effort": "extreme"}}""", "reasoning.effort")]
    [InlineData("""{"model": "M", "input": "x", "store": "yes"}""", "store")]
    [InlineData("""{"model": "M", "input": "x", "metadata": {"k": 5}}""", "metadata.k")]
    public async Task BadFieldsAre400sNamingThem(string body, string param)
    {
        var response = await Http.PostAsync(_client, "/v1/responses", body.Replace("\"M\"", $"\"{Qwen}\""));
        Http.AssertError(400, response, param);
    }

    [Fact]
    public async Task AnUnknownModelIsA404AndALongConversationA400()
    {
        Http.AssertError(404, await Http.PostAsync(_client, "/v1/responses", """{"model": "nope", "input": "x"}"""), "model");
        string longText = string.Join(' ', Enumerable.Repeat("word", 3000));
        Http.AssertError(400, await Http.PostAsync(_client, "/v1/responses", $$"""{"model": "{{Qwen}}", "input": "{{longText}}"}"""), "input");
    }

    [Fact]
    public async Task SwaggerDocumentsTheEndpoints()
    {
        var (status, swagger) = await Http.GetAsync(_client, "/swagger/v1/swagger.json");
        Assert.Equal(200, status);
        var paths = swagger.GetProperty("paths");
        Assert.True(paths.GetProperty("/v1/responses").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/v1/responses/{id}").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/v1/responses/{id}").TryGetProperty("delete", out _));
        var request = swagger.GetProperty("components").GetProperty("schemas").GetProperty("CreateResponseRequest").GetProperty("properties");
        foreach (string field in new[] { "input", "instructions", "previous_response_id", "store", "tools", "tool_choice", "text", "max_output_tokens" })
        {
            Assert.True(request.TryGetProperty(field, out _), field);
        }
    }
}
