using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;

#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK; the API field is stable.

namespace GenAI.Server.Tests;

/// <summary>
/// Starts the real server process on 127.0.0.1 with the GPT-2 and Qwen3 fixture models and drives it with the official
/// OpenAI .NET SDK.
/// </summary>
public sealed class OpenAiSdkEndToEndTests : IAsyncLifetime
{
    private ServerProcess _server = null!;
    private OpenAIClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerProcess.StartAsync(Path.Combine(AppContext.BaseDirectory, "GenAI.Server.dll"),
            ["--model", TestPaths.Gpt2Tiny, "--model", TestPaths.DecoderModel("qwen3-tiny"), "--api-key", "test-key"]);
        _client = new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = new Uri(_server.BaseAddress, "/v1") });
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ChatCompletion()
    {
        ChatClient chat = _client.GetChatClient("gpt2-tiny");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 };
        ChatCompletion completion = await chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Hello!")], options);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        Assert.Equal("gpt2-tiny", completion.Model);
        Assert.True(completion.Usage.OutputTokenCount is > 0 and <= 8);
        Assert.StartsWith("rev-", completion.SystemFingerprint);
    }

    [Fact]
    public async Task StreamedChatCompletionEqualsTheWholeOne()
    {
        ChatClient chat = _client.GetChatClient("gpt2-tiny");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 10, Temperature = 0.8f, Seed = 11 };
        ChatCompletion whole = await chat.CompleteChatAsync([new UserChatMessage("Tell me a story.")], options);
        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (StreamingChatCompletionUpdate update in chat.CompleteChatStreamingAsync([new UserChatMessage("Tell me a story.")], options))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal(whole.Content[0].Text, streamed.ToString());
        Assert.NotNull(finish);
    }

    [Fact]
    public async Task CompletionAndStreamedCompletion()
    {
        // The SDK has no public legacy-completions client; its pipeline (auth, transport, error handling) sends the request.
        string body = """{"model": "gpt2-tiny", "prompt": "Hello, I'm a language model,", "max_tokens": 5, "temperature": 0}""";
        using var whole = JsonDocument.Parse(await SendAsync("/v1/completions", body, stream: false));
        string text = whole.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
        Assert.Equal(" coordinate coordinate coordinate coordinate coordinate", text);

        string events = await SendAsync("/v1/completions", body.TrimEnd('}') + """, "stream": true}""", stream: true);
        var chunks = events.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Where(e => e.StartsWith("data: ")).Select(e => e[6..]).ToList();
        Assert.Equal("[DONE]", chunks[^1]);
        string streamed = string.Concat(chunks[..^1].Select(c => JsonDocument.Parse(c).RootElement.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(text, streamed);
    }

    [Fact]
    public async Task AQwen3ChatGivesTheReferenceTokens()
    {
        using var reference = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.DecoderModel("qwen3-tiny"), "reference_outputs.json")));
        var prompt = reference.RootElement.GetProperty("prompts")[1]; // the chat-template rendering of a system and a user message
        var messages = prompt.GetProperty("chat_messages").EnumerateArray()
            .Select(m => m.GetProperty("role").GetString() == "system"
                ? (OpenAI.Chat.ChatMessage)new SystemChatMessage(m.GetProperty("content").GetString())
                : new UserChatMessage(m.GetProperty("content").GetString()))
            .ToList();
        ChatClient chat = _client.GetChatClient("qwen3-tiny");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 0, IncludeLogProbabilities = true, TopLogProbabilityCount = 2 };
        ChatCompletion completion = await chat.CompleteChatAsync(messages, options);

        var detokenizer = GenAI.Core.Tokenization.TokenizerLoader.Load(TestPaths.DecoderModel("qwen3-tiny")).CreateStreamingDetokenizer();
        string expected = string.Concat(prompt.GetProperty("greedy_ids").EnumerateArray().Select(id => detokenizer.Push(id.GetInt32()))) + detokenizer.Flush();
        Assert.Equal(expected, completion.Content[0].Text);
        Assert.Equal(prompt.GetProperty("ids").GetArrayLength(), completion.Usage.InputTokenCount);
        Assert.Equal(24, completion.ContentTokenLogProbabilities.Count);
        Assert.All(completion.ContentTokenLogProbabilities, lp => Assert.Equal(2, lp.TopLogProbabilities.Count));
    }

    [Fact]
    public async Task ChatResponseFormatWithAJsonSchemaAnswersAValidatingObject()
    {
        // The fixture's 128 positions hold a short chat and a small schema's value (at most ~45 bytes).
        const string Schema = """
            {"type": "object", "properties": {"answer": {"enum": ["yes", "no"]}, "confidence": {"type": "integer", "minimum": 0, "maximum": 10},
             "note": {"type": ["string", "null"], "maxLength": 4}}, "required": ["answer", "confidence", "note"], "additionalProperties": false}
            """;
        ChatClient chat = _client.GetChatClient("qwen3-tiny");
        foreach (long seed in new long[] { 1, 2, 3 })
        {
            var options = new ChatCompletionOptions
            {
                ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("verdict", BinaryData.FromString(Schema), jsonSchemaIsStrict: true),
                Temperature = 1.0f, Seed = seed, MaxOutputTokenCount = 90,
            };
            ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Is it raining?")], options);
            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            StructuredOutputTests.AssertValidates(completion.Content[0].Text, Schema);
        }

        var json = new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat(), MaxOutputTokenCount = 20, Temperature = 0 };
        ChatCompletion any = await chat.CompleteChatAsync([new UserChatMessage("Hi")], json);
        Assert.StartsWith("{", any.Content[0].Text);

        var unsupported = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("bad", BinaryData.FromString("""{"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 2}}}""")),
        };
        var e = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("Hi")], unsupported));
        Assert.Equal(400, e.Status);
        Assert.Contains("response_format.json_schema.schema.properties.n: keyword 'multipleOf' is not supported", e.Message);
    }

    [Fact]
    public async Task WrongKeyIsRejected()
    {
        var client = new OpenAIClient(new ApiKeyCredential("wrong"), new OpenAIClientOptions { Endpoint = new Uri(_server.BaseAddress, "/v1") });
        var e = await Assert.ThrowsAsync<ClientResultException>(() => client.GetChatClient("gpt2-tiny").CompleteChatAsync([new UserChatMessage("Hi")]));
        Assert.Equal(401, e.Status);
    }

    private async Task<string> SendAsync(string path, string json, bool stream)
    {
        PipelineMessage message = _client.Pipeline.CreateMessage();
        message.Request.Method = "POST";
        message.Request.Uri = new Uri(_server.BaseAddress, path);
        message.Request.Headers.Set("Content-Type", "application/json");
        message.Request.Content = BinaryContent.Create(BinaryData.FromString(json));
        message.BufferResponse = !stream;
        await _client.Pipeline.SendAsync(message);
        var response = message.Response!;
        Assert.Equal(200, response.Status);
        if (!stream) return response.Content.ToString();
        using var reader = new StreamReader(response.ContentStream!);
        return await reader.ReadToEndAsync();
    }
}
