using System.Text.Json;
using GenAI.Core.Tokenization;

namespace GenAI.Server.Tests;

/// <summary>
/// Llama-family fixtures served through the API: prompts encoded as vLLM encodes them (BOS from the tokenizer's
/// post-processor, chat prompts rendered by the model's own template with tools and template kwargs), greedy output
/// equal to the float64 references, every EOS of a list ending generation, and the sequence limit.
/// </summary>
public sealed class LlamaFamilyServingTests : IClassFixture<LlamaFamilyServingTests.Servers>
{
    private readonly Servers _servers;

    public LlamaFamilyServingTests(Servers servers) => _servers = servers;

    /// <summary>One in-process server over three fixture models, MaxSequenceLength 100 (below their context of 128).</summary>
    public sealed class Servers : IDisposable
    {
        public Servers() => Factory = ServerFactory.With(new()
        {
            ["GenAI:Models:0"] = TestPaths.DecoderModel("qwen3-tiny"),
            ["GenAI:Models:1"] = TestPaths.DecoderModel("llama3-tiny"),
            ["GenAI:Models:2"] = TestPaths.DecoderModel("mistral-tiny"),
            ["GenAI:MaxSequenceLength"] = "100",
        });

        public ServerFactory Factory { get; }

        public void Dispose() => Factory.Dispose();
    }

    private static JsonElement Reference(string model, int prompt) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.DecoderModel(model), "reference_outputs.json"))).RootElement
            .GetProperty("prompts")[prompt].Clone();

    private static string Continuation(string model, JsonElement ids)
    {
        var detokenizer = TokenizerLoader.Load(TestPaths.DecoderModel(model)).CreateStreamingDetokenizer();
        return string.Concat(ids.EnumerateArray().Select(id => detokenizer.Push(id.GetInt32()))) + detokenizer.Flush();
    }

    [Theory]
    [InlineData("llama3-tiny")]
    [InlineData("mistral-tiny")]
    [InlineData("qwen3-tiny")]
    public async Task CompletionPromptsGetBosAndDecodeAsTheReference(string model)
    {
        var client = await _servers.Factory.ReadyClientAsync();
        var reference = Reference(model, 0); // "The quick brown fox", encoded as tokenizer(text) with special tokens
        var (status, body) = await Http.PostAsync(client, "/v1/completions",
            $$"""{"model": "{{model}}", "prompt": "{{reference.GetProperty("text").GetString()}}", "max_tokens": 24, "temperature": 0}""");
        Assert.Equal(200, status);
        Assert.Equal(reference.GetProperty("ids").GetArrayLength(), body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(Continuation(model, reference.GetProperty("greedy_ids")), body.GetProperty("choices")[0].GetProperty("text").GetString());

        var (_, tokens) = await Http.PostAsync(client, "/tokenize", $$"""{"model": "{{model}}", "prompt": "{{reference.GetProperty("text").GetString()}}"}""");
        Assert.Equal(reference.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()), tokens.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
        var (_, bare) = await Http.PostAsync(client, "/tokenize", $$"""{"model": "{{model}}", "prompt": "The quick brown fox", "add_special_tokens": false}""");
        var withoutBos = reference.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).SkipWhile(id => id == TokenizerLoader.Load(TestPaths.DecoderModel(model)).BosTokenId);
        Assert.Equal(withoutBos, bare.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Theory]
    [InlineData("qwen3-tiny")]
    [InlineData("llama3-tiny")]
    public async Task ChatPromptIsTheModelTemplateAndGreedyMatchesTheReference(string model)
    {
        var client = await _servers.Factory.ReadyClientAsync();
        var reference = Reference(model, 1); // apply_chat_template(messages, add_generation_prompt=True)
        string messages = reference.GetProperty("chat_messages").GetRawText();
        var (_, tokens) = await Http.PostAsync(client, "/tokenize", $$"""{"model": "{{model}}", "messages": {{messages}}}""");
        Assert.Equal(reference.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()), tokens.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));

        var (status, body) = await Http.PostAsync(client, "/v1/chat/completions",
            $$"""{"model": "{{model}}", "messages": {{messages}}, "max_tokens": 24, "temperature": 0}""");
        Assert.Equal(200, status);
        Assert.Equal(reference.GetProperty("ids").GetArrayLength(), body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(Continuation(model, reference.GetProperty("greedy_ids")), body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task ToolsToolCallsAndTemplateKwargsReachTheTemplate()
    {
        var client = await _servers.Factory.ReadyClientAsync();
        using var chats = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.Tokenizer("qwen3"), "reference_chat.json")));
        foreach (var name in new[] { "tool_call_round_trip", "thinking_disabled" })
        {
            var chat = chats.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
            var request = new Dictionary<string, object?>
            {
                ["model"] = "qwen3-tiny",
                ["messages"] = OpenAiWireFormat(chat.GetProperty("messages")),
                ["add_generation_prompt"] = chat.GetProperty("add_generation_prompt").GetBoolean(),
                ["chat_template_kwargs"] = chat.GetProperty("template_kwargs"),
            };
            if (chat.TryGetProperty("tools", out var tools)) request["tools"] = tools;
            var (status, tokens) = await Http.PostAsync(client, "/tokenize", JsonSerializer.Serialize(request));
            Assert.Equal(200, status);
            Assert.Equal(chat.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()), tokens.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
            if (tokens.GetProperty("count").GetInt32() >= 100)
            {
                // The tool definitions alone outgrow this tiny model's served context: a 400 naming the messages.
                Http.AssertError(400, await Http.PostAsync(client, "/v1/chat/completions", JsonSerializer.Serialize(request)), "messages");
            }
        }
    }

    // OpenAI clients send tool-call arguments as a JSON string, and null content beside tool calls.
    private static List<JsonElement> OpenAiWireFormat(JsonElement messages) => messages.EnumerateArray().Select(m =>
    {
        if (!m.TryGetProperty("tool_calls", out var calls)) return m;
        var node = System.Text.Json.Nodes.JsonNode.Parse(m.GetRawText())!.AsObject();
        foreach (var call in node["tool_calls"]!.AsArray())
        {
            var function = call!["function"]!.AsObject();
            function["arguments"] = function["arguments"]!.ToJsonString();
        }
        return JsonDocument.Parse(node.ToJsonString()).RootElement.Clone();
    }).ToList();

    [Fact]
    public async Task EveryEosOfTheListEndsGeneration()
    {
        var client = await _servers.Factory.ReadyClientAsync();
        foreach (int eos in new[] { 128001, 128009 }) // llama3-tiny's eos_token_id list
        {
            var (status, body) = await Http.PostAsync(client, "/v1/completions",
                $$$"""{"model": "llama3-tiny", "prompt": "Hello", "max_tokens": 10, "temperature": 0, "logit_bias": {"{{{eos}}}": 100}}""");
            Assert.Equal(200, status);
            Assert.Equal("stop", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
            Assert.Equal(1, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
            Assert.Equal("", body.GetProperty("choices")[0].GetProperty("text").GetString());
        }
    }

    [Fact]
    public async Task RequestsBeyondTheSequenceLimitAreRefusedNamingIt()
    {
        var client = await _servers.Factory.ReadyClientAsync();
        var response = await Http.PostAsync(client, "/v1/completions", """{"model": "llama3-tiny", "prompt": "Hello", "max_tokens": 99}""");
        Http.AssertError(400, response, "max_tokens");
        Assert.Contains("100 tokens", response.Body.GetProperty("error").GetProperty("message").GetString());
        Assert.Contains("MaxSequenceLength", response.Body.GetProperty("error").GetProperty("message").GetString());

        var (_, models) = await Http.GetAsync(client, "/v1/models");
        var card = models.GetProperty("data").EnumerateArray().Single(m => m.GetProperty("id").GetString() == "llama3-tiny");
        Assert.Equal("LlamaForCausalLM", card.GetProperty("architecture").GetString());
        Assert.Equal(100, card.GetProperty("max_model_len").GetInt32());
    }

    [Fact]
    public async Task StreamingBeamSearchSeedsAndLogprobsWorkOnTheseModels()
    {
        var client = await _servers.Factory.ReadyClientAsync();
        var (status, plain) = await Http.PostAsync(client, "/v1/chat/completions",
            """{"model": "mistral-tiny", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 12, "temperature": 0}""");
        Assert.Equal(200, status);
        var (response, stream) = await Http.StreamAsync(client, "/v1/chat/completions",
            """{"model": "mistral-tiny", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 12, "temperature": 0, "stream": true}""");
        Assert.Equal(200, (int)response.StatusCode);
        var deltas = Http.DataEvents(stream).Where(e => e != "[DONE]")
            .Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices"))
            .Where(c => c.GetArrayLength() > 0 && c[0].GetProperty("delta").TryGetProperty("content", out var t) && t.ValueKind == JsonValueKind.String)
            .Select(c => c[0].GetProperty("delta").GetProperty("content").GetString());
        Assert.Equal(plain.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), string.Concat(deltas));

        var (beamStatus, beams) = await Http.PostAsync(client, "/v1/completions",
            """{"model": "qwen3-tiny", "prompt": "The quick brown fox", "max_tokens": 4, "use_beam_search": true, "num_beams": 3, "n": 2}""");
        Assert.Equal(200, beamStatus);
        Assert.Equal(2, beams.GetProperty("choices").GetArrayLength());

        string sampled = """{"model": "llama3-tiny", "prompt": "The quick brown fox", "max_tokens": 8, "temperature": 1.0, "seed": 7, "logprobs": 2}""";
        var (_, first) = await Http.PostAsync(client, "/v1/completions", sampled);
        var (_, second) = await Http.PostAsync(client, "/v1/completions", sampled);
        Assert.Equal(first.GetProperty("choices")[0].GetProperty("text").GetString(), second.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(8, first.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("token_logprobs").GetArrayLength());
    }
}
