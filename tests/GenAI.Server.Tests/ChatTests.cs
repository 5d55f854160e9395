using System.Text.Json;

namespace GenAI.Server.Tests;

public sealed class ChatTests(ServerFactory factory) : IClassFixture<ServerFactory>
{
    [Fact]
    public async Task ChatCompletionAndStreamAgree()
    {
        var client = await factory.ReadyClientAsync();
        string request = """{"model": "gpt2-tiny", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hello!"}]}], "max_completion_tokens": 12, "seed": 3""";
        var (status, body) = await Http.PostAsync(client, "/v1/chat/completions", request + "}");
        Assert.Equal(200, status);
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        var message = body.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        string content = message.GetProperty("content").GetString()!;
        Assert.True(body.GetProperty("usage").GetProperty("completion_tokens").GetInt32() <= 12);

        var (_, stream) = await Http.StreamAsync(client, "/v1/chat/completions", request + """, "stream": true}""");
        var events = Http.DataEvents(stream);
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        string streamed = string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("content", out var t) ? t.GetString() : ""));
        Assert.Equal(content, streamed);
        Assert.NotEqual(JsonValueKind.Null, chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").ValueKind);
    }

    [Fact]
    public async Task ChatLogprobs()
    {
        var client = await factory.ReadyClientAsync();
        var (_, body) = await Http.PostAsync(client, "/v1/chat/completions",
            """{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3, "temperature": 0, "logprobs": true, "top_logprobs": 2}""");
        var content = body.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content");
        Assert.Equal(3, content.GetArrayLength());
        Assert.Equal(2, content[0].GetProperty("top_logprobs").GetArrayLength());
        Assert.True(content[0].GetProperty("logprob").GetDouble() <= 0);
        Assert.Equal(JsonValueKind.Array, content[0].GetProperty("bytes").ValueKind);
    }
}
