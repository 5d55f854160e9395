using GenAI.Core.Tokenization;

namespace GenAI.Server.Tests;

/// <summary>A model whose tokenizer_config.json has a chat_template is prompted through it.</summary>
public sealed class ChatTemplateServingTests : IDisposable
{
    private const string Template = "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + eos_token }}{% endfor %}{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "genai-template-" + Guid.NewGuid().ToString("N"), "templated");

    public ChatTemplateServingTests()
    {
        Directory.CreateDirectory(_folder);
        // The fixture's files, linked rather than copied, plus a tokenizer_config.json with a template.
        foreach (string file in new[] { "config.json", "model.safetensors", "vocab.json", "merges.txt" })
        {
            File.CreateSymbolicLink(Path.Combine(_folder, file), Path.Combine(TestPaths.Gpt2Tiny, file));
        }
        File.WriteAllText(Path.Combine(_folder, "tokenizer_config.json"),
            System.Text.Json.JsonSerializer.Serialize(new { eos_token = "<|endoftext|>", chat_template = Template }));
    }

    [Fact]
    public async Task PromptIsTheRenderedTemplateWithSpecialTokens()
    {
        using var factory = ServerFactory.With(new() { ["GenAI:Models:0"] = _folder });
        var client = await factory.ReadyClientAsync();
        var (status, body) = await Http.PostAsync(client, "/v1/chat/completions",
            """{"model": "templated", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 3, "temperature": 0}""");
        Assert.Equal(200, status);

        var tokenizer = TokenizerLoader.Load(_folder);
        var expected = tokenizer.EncodeWithSpecialTokens(ChatTemplate.Load(_folder).Render([new ChatTurn("user", "Hello")]));
        Assert.Contains(50256, expected); // eos_token became its id
        Assert.Equal(expected.Count, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_folder)!, recursive: true);
}
