using System.Text.Json;

namespace GenAI.Server.Tests;

public sealed class CompletionsTests(ServerFactory factory) : IClassFixture<ServerFactory>
{
    // The fixture's first prompt: its 24 greedy tokens are " coordinate" each.
    private const string FixturePrompt = "Hello, I'm a language model,";
    private static readonly string Greedy24 = string.Concat(Enumerable.Repeat(" coordinate", 24));

    [Fact]
    public async Task GreedyCompletionMatchesTheFixture()
    {
        var client = await factory.ReadyClientAsync();
        var (status, body) = await Http.PostAsync(client, "/v1/completions",
            $$"""{"model": "gpt2-tiny", "prompt": "{{FixturePrompt}}", "max_tokens": 24, "temperature": 0}""");
        Assert.Equal(200, status);
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.StartsWith("cmpl-", body.GetProperty("id").GetString());
        Assert.Equal("gpt2-tiny", body.GetProperty("model").GetString());
        Assert.StartsWith("rev-", body.GetProperty("system_fingerprint").GetString());
        var choice = body.GetProperty("choices")[0];
        Assert.Equal(Greedy24, choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        var usage = body.GetProperty("usage");
        Assert.Equal(8, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(24, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(32, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task DefaultMaxTokensIsSixteen()
    {
        var client = await factory.ReadyClientAsync();
        var (_, body) = await Http.PostAsync(client, "/v1/completions", $$"""{"prompt": "{{FixturePrompt}}", "temperature": 0}""");
        Assert.Equal(16, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task PromptListTokenIdsEchoAndN()
    {
        var client = await factory.ReadyClientAsync();
        var (status, body) = await Http.PostAsync(client, "/v1/completions",
            """{"prompt": ["Hello", "The quick brown fox"], "n": 2, "max_tokens": 3, "seed": 7, "echo": true}""");
        Assert.Equal(200, status);
        var choices = body.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal(4, choices.Count);
        Assert.Equal([0, 1, 2, 3], choices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.StartsWith("Hello", choices[1].GetProperty("text").GetString());
        Assert.StartsWith("The quick brown fox", choices[2].GetProperty("text").GetString());

        var (idsStatus, ids) = await Http.PostAsync(client, "/v1/completions", """{"prompt": [15496, 11, 314, 1101, 257, 3303, 2746, 11], "max_tokens": 2, "temperature": 0}""");
        Assert.Equal(200, idsStatus);
        Assert.Equal(" coordinate coordinate", ids.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task StreamFramesChunksAndMatchesTheNonStreamedText()
    {
        var client = await factory.ReadyClientAsync();
        string request = """{"prompt": "Once upon a time", "max_tokens": 20, "temperature": 0.9, "seed": 42, "stream_options": {"include_usage": true}""";
        var (_, whole) = await Http.PostAsync(client, "/v1/completions", request + "}");
        string expected = whole.GetProperty("choices")[0].GetProperty("text").GetString()!;

        var (response, body) = await Http.StreamAsync(client, "/v1/completions", request + """, "stream": true}""");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("no", response.Headers.GetValues("X-Accel-Buffering").Single());
        var events = Http.DataEvents(body);
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        var usageChunk = chunks[^1];
        Assert.Empty(usageChunk.GetProperty("choices").EnumerateArray());
        Assert.Equal(20, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        var textChunks = chunks[..^1];
        Assert.Equal(expected, string.Concat(textChunks.Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString())));
        Assert.Equal("length", textChunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.All(textChunks[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
    }

    [Fact]
    public async Task LogprobsInOpenAiFormat()
    {
        var client = await factory.ReadyClientAsync();
        var (_, body) = await Http.PostAsync(client, "/v1/completions", $$"""{"prompt": "{{FixturePrompt}}", "max_tokens": 2, "temperature": 0, "logprobs": 3}""");
        var logprobs = body.GetProperty("choices")[0].GetProperty("logprobs");
        Assert.Equal([" coordinate", " coordinate"], logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(-4.3744, logprobs.GetProperty("token_logprobs")[0].GetDouble(), 3);
        Assert.Equal(3, logprobs.GetProperty("top_logprobs")[0].EnumerateObject().Count());
        Assert.Equal([0, 11], logprobs.GetProperty("text_offset").EnumerateArray().Select(t => t.GetInt32()));
    }

    [Fact]
    public async Task StopStringsAndBeamSearch()
    {
        var client = await factory.ReadyClientAsync();
        var (_, stopped) = await Http.PostAsync(client, "/v1/completions", $$"""{"prompt": "{{FixturePrompt}}", "max_tokens": 10, "temperature": 0, "stop": ["ate coord"]}""");
        Assert.Equal(" coordin", stopped.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal("stop", stopped.GetProperty("choices")[0].GetProperty("finish_reason").GetString());

        var (status, beams) = await Http.PostAsync(client, "/v1/completions", """{"prompt": "The quick brown fox", "max_tokens": 4, "use_beam_search": true, "num_beams": 3, "n": 2, "early_stopping": "never"}""");
        Assert.Equal(200, status);
        var choices = beams.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal(2, choices.Count);
        Assert.True(choices[0].GetProperty("score").GetDouble() >= choices[1].GetProperty("score").GetDouble());
    }

    [Fact]
    public async Task TokenizeAndDetokenize()
    {
        var client = await factory.ReadyClientAsync();
        var (_, tokens) = await Http.PostAsync(client, "/tokenize", """{"model": "gpt2-tiny", "prompt": "Hello world"}""");
        Assert.Equal([15496, 995], tokens.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
        Assert.Equal(2, tokens.GetProperty("count").GetInt32());
        Assert.Equal(128, tokens.GetProperty("max_model_len").GetInt32());
        var (_, text) = await Http.PostAsync(client, "/detokenize", """{"tokens": [15496, 995]}""");
        Assert.Equal("Hello world", text.GetProperty("prompt").GetString());
    }

    [Fact]
    public async Task ModelsHealthMetricsAndSwagger()
    {
        var client = await factory.ReadyClientAsync();
        var (_, list) = await Http.GetAsync(client, "/v1/models");
        Assert.Equal("list", list.GetProperty("object").GetString());
        var card = list.GetProperty("data")[0];
        Assert.Equal("gpt2-tiny", card.GetProperty("id").GetString());
        Assert.Equal("GPT2LMHeadModel", card.GetProperty("architecture").GetString());
        Assert.Equal("gpt2", card.GetProperty("model_type").GetString());
        Assert.Equal(128, card.GetProperty("context_length").GetInt32());
        Assert.Equal(128, card.GetProperty("max_model_len").GetInt32());
        Assert.Equal("float32", card.GetProperty("dtype").GetString());
        Assert.Equal("cpu", card.GetProperty("device").GetString());
        Assert.True(card.GetProperty("parameters").GetInt64() > 3_000_000);
        Assert.StartsWith("rev-", card.GetProperty("revision").GetString());
        var (_, one) = await Http.GetAsync(client, "/v1/models/gpt2-tiny");
        Assert.Equal("model", one.GetProperty("object").GetString());
        Http.AssertError(404, await Http.GetAsync(client, "/v1/models/nope"));

        Assert.Equal("ok", (await Http.GetAsync(client, "/health")).Body.GetProperty("status").GetString());
        Assert.Equal("ready", (await Http.GetAsync(client, "/health/ready")).Body.GetProperty("status").GetString());

        await Http.PostAsync(client, "/v1/completions", """{"prompt": "Hi", "max_tokens": 2}""");
        // A prompt of more than one 16-token block, twice: the second reads its start from the prefix cache.
        string repeated = """{"prompt": "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness", "max_tokens": 2}""";
        await Http.PostAsync(client, "/v1/completions", repeated);
        await Http.PostAsync(client, "/v1/completions", repeated);
        string metrics = await client.GetStringAsync("/metrics");
        foreach (string name in new[] { "genai_requests_total", "genai_prompt_tokens_total", "genai_completion_tokens_total",
                     "genai_time_to_first_token_seconds", "genai_inter_token_latency_seconds", "genai_queue_depth", "genai_batch_size",
                     "genai_prefill_prompts_per_pass", "genai_prefix_cache_hit_rate", "genai_prefix_cache_bytes" })
        {
            Assert.Contains(name, metrics);
        }
        var hits = System.Text.RegularExpressions.Regex.Match(metrics, @"genai_prefix_cache_hit_tokens\{model=""gpt2-tiny""\} (\d+)");
        Assert.True(hits.Success && long.Parse(hits.Groups[1].Value) >= 16, "the repeated prompt's start came from the prefix cache");

        string swagger = await client.GetStringAsync("/swagger/v1/swagger.json");
        foreach (string path in new[] { "/v1/completions", "/v1/chat/completions", "/v1/models", "/tokenize", "/health/ready", "CompletionRequest", "max_tokens" })
        {
            Assert.Contains(path, swagger);
        }
        Assert.Contains("swagger-ui", await client.GetStringAsync("/swagger/index.html"));
    }
}
