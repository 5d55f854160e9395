namespace GenAI.Server.Tests;

/// <summary>With no --model the server serves the models root; the repository ships tiny-shakespeare there.</summary>
public sealed class DefaultModelTests
{
    [Fact]
    public async Task ServesTheShippedModelWithPseudoShakespeare()
    {
        using var factory = ServerFactory.With(new() { ["GenAI:Models:0"] = "", ["GenAI:ModelsRoot"] = Path.Combine(TestPaths.RepoRoot, "models") });
        var client = await factory.ReadyClientAsync();
        var (_, models) = await Http.GetAsync(client, "/v1/models");
        Assert.Equal("tiny-shakespeare", models.GetProperty("data")[0].GetProperty("id").GetString());

        var (status, body) = await Http.PostAsync(client, "/v1/completions", """{"prompt": "ROMEO:\n", "seed": 1}""");
        Assert.Equal(200, status);
        string text = body.GetProperty("choices")[0].GetProperty("text").GetString()!;
        // generation_config.json: up to 100 new characters by default, capped by the 128-character context.
        Assert.Equal(100, text.Length);
        // Play-script layout: a speaker's name in capitals followed by a colon on its own line.
        Assert.Matches(@"\n[A-Z][A-Z ]+:\n", "\n" + text);

        Http.AssertError(400, await Http.PostAsync(client, "/v1/completions", """{"prompt": "emoji 🚀"}"""), "prompt");
    }
}
