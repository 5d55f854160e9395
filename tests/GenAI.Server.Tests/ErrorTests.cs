using System.Net;
using System.Text;

namespace GenAI.Server.Tests;

/// <summary>Every bad request is a 4xx with OpenAI's error body naming the field, and the server keeps serving.</summary>
public sealed class ErrorTests(ServerFactory factory) : IClassFixture<ServerFactory>
{
    [Theory]
    [InlineData("{\"prompt\": \"Hi\", ", null)]
    [InlineData("[1, 2]", null)]
    [InlineData("{\"prompt\": \"Hi\", \"max_tokens\": \"5\"}", "max_tokens")]
    [InlineData("{\"prompt\": \"Hi\", \"max_tokens\": 2.5}", "max_tokens")]
    [InlineData("{\"prompt\": \"Hi\", \"temperature\": \"NaN\"}", "temperature")]
    [InlineData("{\"prompt\": \"Hi\", \"temperature\": -1}", "temperature")]
    [InlineData("{\"prompt\": \"Hi\", \"top_p\": 0}", "top_p")]
    [InlineData("{\"prompt\": \"Hi\", \"max_tokens\": 0}", "max_tokens")]
    [InlineData("{\"prompt\": \"Hi\", \"max_tokens\": 200}", "max_tokens")]
    [InlineData("{\"prompt\": \"Hi\", \"n\": 100}", "n")]
    [InlineData("{\"prompt\": \"Hi\", \"num_beams\": 40}", "num_beams")]
    [InlineData("{\"prompt\": \"Hi\", \"presence_penalty\": 3}", "presence_penalty")]
    [InlineData("{\"prompt\": \"Hi\", \"logprobs\": 21}", "logprobs")]
    [InlineData("{\"prompt\": \"Hi\", \"logit_bias\": {\"x\": 1}}", "logit_bias")]
    [InlineData("{\"prompt\": \"Hi\", \"stop\": 5}", "stop")]
    [InlineData("{\"prompt\": \"Hi\", \"early_stopping\": \"sometimes\"}", "early_stopping")]
    [InlineData("{\"max_tokens\": 3}", "prompt")]
    [InlineData("{\"prompt\": [1, 99999999]}", "prompt")]
    [InlineData("{\"prompt\": []}", "prompt")]
    public async Task CompletionValidation(string body, string? param)
    {
        var client = await factory.ReadyClientAsync();
        Http.AssertError(400, await Http.PostAsync(client, "/v1/completions", body), param);
    }

    [Fact]
    public async Task PromptLongerThanTheContext()
    {
        var client = await factory.ReadyClientAsync();
        string longPrompt = string.Concat(Enumerable.Repeat("word ", 200));
        Http.AssertError(400, await Http.PostAsync(client, "/v1/completions", $$"""{"prompt": "{{longPrompt}}"}"""), "prompt");
    }

    [Fact]
    public async Task StreamedRequestsAreValidatedBeforeTheStreamStarts()
    {
        var client = await factory.ReadyClientAsync();
        var (response, body) = await Http.StreamAsync(client, "/v1/completions", """{"prompt": "Hi", "stream": true, "top_p": 5}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("top_p", body);
    }

    [Fact]
    public async Task ChatValidation()
    {
        var client = await factory.ReadyClientAsync();
        Http.AssertError(400, await Http.PostAsync(client, "/v1/chat/completions", """{"messages": []}"""), "messages");
        Http.AssertError(400, await Http.PostAsync(client, "/v1/chat/completions", """{"messages": [{"role": "wizard", "content": "x"}]}"""), "messages[0].role");
        Http.AssertError(400, await Http.PostAsync(client, "/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 500}"""), "max_completion_tokens");
        Http.AssertError(400, await Http.PostAsync(client, "/v1/chat/completions", """{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}"""), "messages[0].content");
    }

    [Fact]
    public async Task UnknownModelRouteAndMethod()
    {
        var client = await factory.ReadyClientAsync();
        var unknown = await Http.PostAsync(client, "/v1/completions", """{"model": "gpt-9", "prompt": "Hi"}""");
        Http.AssertError(404, unknown, "model");
        Assert.Equal("model_not_found", unknown.Body.GetProperty("error").GetProperty("code").GetString());
        Http.AssertError(404, await Http.GetAsync(client, "/v1/nothing"));
        using var get = await client.GetAsync("/v1/completions");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Contains("\"error\"", await get.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task InvalidUtf8IsA400()
    {
        var client = await factory.ReadyClientAsync();
        var bytes = Encoding.UTF8.GetBytes("{\"prompt\": \"Hi \u0001\"}");
        bytes[^3] = 0xFF; // not UTF-8
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");
        using var response = await client.PostAsync("/v1/completions", content);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
        Assert.Contains("\"error\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ServerKeepsServingAfterErrors()
    {
        var client = await factory.ReadyClientAsync();
        for (int i = 0; i < 3; i++) await Http.PostAsync(client, "/v1/completions", "{not json");
        var (status, _) = await Http.PostAsync(client, "/v1/completions", """{"prompt": "Hi", "max_tokens": 2}""");
        Assert.Equal(200, status);
    }
}

/// <summary>Limits that need their own server settings.</summary>
public sealed class LimitTests
{
    [Fact]
    public async Task BodyTooLargeIs413()
    {
        using var factory = ServerFactory.With(new() { ["GenAI:MaxBodyBytes"] = "2048" });
        var client = await factory.ReadyClientAsync();
        string big = new('a', 4000);
        Http.AssertError(413, await Http.PostAsync(client, "/v1/completions", $$"""{"prompt": "{{big}}"}"""));
    }

    [Fact]
    public async Task ApiKeysGuardV1ButNotHealth()
    {
        using var factory = ServerFactory.With(new() { ["GenAI:ApiKeys:0"] = "secret-key" });
        var client = await factory.ReadyClientAsync();
        Http.AssertError(401, await Http.GetAsync(client, "/v1/models"));
        client.DefaultRequestHeaders.Authorization = new("Bearer", "wrong");
        Http.AssertError(401, await Http.GetAsync(client, "/v1/models"));
        Assert.Equal(200, (await Http.GetAsync(client, "/health")).Status);
        client.DefaultRequestHeaders.Authorization = new("Bearer", "secret-key");
        Assert.Equal(200, (await Http.GetAsync(client, "/v1/models")).Status);
    }

    [Fact]
    public async Task FullQueueIs429WithRetryAfter()
    {
        using var factory = ServerFactory.With(new() { ["GenAI:MaxConcurrentSequences"] = "1", ["GenAI:MaxQueuedRequests"] = "1" });
        var client = await factory.ReadyClientAsync();
        // One long request holds the only row, one waits in the queue; the rest are refused.
        var running = Enumerable.Range(0, 6).Select(_ =>
            client.PostAsync("/v1/completions", Http.Json("""{"prompt": "Hi", "max_tokens": 120, "ignore_eos": true}"""))).ToList();
        var responses = await Task.WhenAll(running);
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, r => Assert.Equal("1", r.Headers.GetValues("Retry-After").Single()));
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests));
        Assert.Contains("rate_limit_exceeded", await refused[0].Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NotReadyWhenNoModelLoads()
    {
        using var factory = ServerFactory.With(new() { ["GenAI:Models:0"] = "/nonexistent/model" });
        var client = await factory.ReadyClientAsync();
        Http.AssertError(503, await Http.GetAsync(client, "/health/ready"));
        Assert.Equal(200, (await Http.GetAsync(client, "/health")).Status);
        Http.AssertError(503, await Http.PostAsync(client, "/v1/completions", """{"prompt": "Hi"}"""));
    }
}
