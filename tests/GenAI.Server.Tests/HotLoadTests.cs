using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using GenAI.Core.Checkpoints;
using GenAI.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace GenAI.Server.Tests;

/// <summary>New revisions published under the models root are swapped in while clients stream, without a failed request.</summary>
public sealed class HotLoadTests : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), "genai-hotload-" + Guid.NewGuid().ToString("N"));

    private string Root => Path.Combine(_temp, "models");

    private sealed record Outcome(string? Revision, string? Error, int NewestAtStart, bool Streamed);

    private static int Number(string revision) => int.Parse(revision["rev-".Length..]);

    [Fact]
    public async Task ALlamaFamilyModelPublishedWhileServingIsHotLoaded()
    {
        var repository = new ModelRepository(Root);
        repository.Publish("chat", TestPaths.DecoderModel("qwen3-tiny")); // checked: loads, tokenizer and template, finite logits
        using var factory = ServerFactory.With(new() { ["GenAI:Models:0"] = "", ["GenAI:ModelsRoot"] = Root, ["GenAI:ModelsPollSeconds"] = "1" });
        using var client = await factory.ReadyClientAsync();
        string chat = """{"model": "chat", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0}""";
        var (status, first) = await Http.PostAsync(client, "/v1/chat/completions", chat);
        Assert.Equal(200, status);
        Assert.Equal("rev-0001", first.GetProperty("system_fingerprint").GetString());

        // A sharded Phi-3 revision of the same model name replaces it; a request after the publish runs on it.
        repository.Publish("chat", TestPaths.DecoderModel("phi3-tiny"));
        var (_, second) = await Http.PostAsync(client, "/v1/chat/completions", chat);
        Assert.Equal("rev-0002", second.GetProperty("system_fingerprint").GetString());
        var (_, card) = await Http.GetAsync(client, "/v1/models/chat");
        Assert.Equal("Phi3ForCausalLM", card.GetProperty("architecture").GetString());
    }

    [Fact]
    public async Task ThreePublishesUnderStreamingLoadFailNoRequestAndACorruptRevisionIsRejected()
    {
        var repository = new ModelRepository(Root);
        int newest = Number(repository.Publish("hot", TestPaths.Gpt2Tiny, validate: false).Revision);
        using var factory = ServerFactory.With(new()
        {
            ["GenAI:Models:0"] = "", // only the root's models
            ["GenAI:ModelsRoot"] = Root,
            ["GenAI:ModelsPollSeconds"] = "1",
        });
        var served = new ConcurrentBag<ServedModel>();
        factory.Services.GetRequiredService<ModelHost>().ModelLoaded += served.Add;
        using var client = await factory.ReadyClientAsync();

        var outcomes = new ConcurrentBag<Outcome>();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            for (int n = 0; !stop.IsCancellationRequested; n++)
            {
                int atStart = Volatile.Read(ref newest);
                bool stream = (i + n) % 2 == 0;
                outcomes.Add(await CompleteAsync(client, stream, atStart));
            }
        })).ToList();

        await Task.Delay(800);
        for (int k = 0; k < 3; k++)
        {
            var published = repository.Publish("hot", TestPaths.Gpt2Tiny);
            Volatile.Write(ref newest, Number(published.Revision));
            await Task.Delay(1200);
        }

        // A corrupt revision: truncated weights, published past the publisher's own check.
        string corrupt = Path.Combine(_temp, "corrupt");
        DurableFiles.CopyFolder(TestPaths.Gpt2Tiny, corrupt);
        using (var weights = new FileStream(Path.Combine(corrupt, CheckpointWeights.SingleFileName), FileMode.Open)) weights.SetLength(1000);
        string rejected = repository.Publish("hot", corrupt, validate: false).Revision;
        var card = await WaitForRejectionAsync(client, rejected);
        await Task.Delay(800);
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        Assert.Equal("ready", card.GetProperty("status").GetString());
        Assert.Equal("rev-0004", card.GetProperty("revision").GetString());
        Assert.Contains(CheckpointWeights.SingleFileName, card.GetProperty("rejected_revisions")[0].GetProperty("reason").GetString());

        var all = outcomes.ToList();
        Assert.All(all, o => Assert.Null(o.Error));
        Assert.True(all.Count >= 20, $"only {all.Count} requests ran");
        Assert.Contains(all, o => o.Streamed);
        // Each request ran on one revision, never older than the newest published when it started, never the corrupt one.
        Assert.All(all, o => Assert.InRange(Number(o.Revision!), o.NewestAtStart, 4));
        Assert.Equal(["rev-0001", "rev-0002", "rev-0003", "rev-0004"], all.Select(o => o.Revision!).Distinct().Order());

        // Replaced revisions were freed once their last request ended.
        Assert.Equal(4, served.Count);
        Assert.All(served.Where(m => m.Revision != "rev-0004"), m => Assert.True(m.IsDisposed, $"{m.Revision} was not disposed"));
    }

    [Fact]
    public async Task AModelFolderThatFailedWhileStillBeingCopiedLoadsOnceItIsComplete()
    {
        string folder = Path.Combine(Root, "late");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(TestPaths.Gpt2Tiny, "config.json"), Path.Combine(folder, "config.json")); // the rest is still on its way
        using var factory = ServerFactory.With(new() { ["GenAI:ModelsRoot"] = Root, ["GenAI:ModelsPollSeconds"] = "0" });
        using var client = await factory.ReadyClientAsync();
        const string request = """{"model": "late", "prompt": "Hello", "max_tokens": 2}""";
        Assert.Equal(503, (await Http.PostAsync(client, "/v1/completions", request)).Status);

        foreach (string file in Directory.EnumerateFiles(TestPaths.Gpt2Tiny).Where(f => Path.GetFileName(f) != "config.json"))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }
        var (status, body) = await Http.PostAsync(client, "/v1/completions", request);
        Assert.True(status == 200, body.ToString());
        Assert.Equal("late", body.GetProperty("model").GetString());
    }

    private static async Task<Outcome> CompleteAsync(HttpClient client, bool stream, int newestAtStart)
    {
        string request = $$"""{"model": "hot", "prompt": "Hello there", "max_tokens": 6, "temperature": 0, "stream": {{(stream ? "true" : "false")}}}""";
        try
        {
            if (!stream)
            {
                var (status, body) = await Http.PostAsync(client, "/v1/completions", request);
                return status == 200
                    ? new Outcome(body.GetProperty("system_fingerprint").GetString(), null, newestAtStart, false)
                    : new Outcome(null, $"HTTP {status}: {body}", newestAtStart, false);
            }
            var (response, text) = await Http.StreamAsync(client, "/v1/completions", request);
            using (response)
            {
                if (!response.IsSuccessStatusCode) return new Outcome(null, $"HTTP {(int)response.StatusCode}: {text}", newestAtStart, true);
                var events = Http.DataEvents(text);
                if (events[^1] != "[DONE]") return new Outcome(null, "stream did not end with [DONE]: " + text, newestAtStart, true);
                var revisions = events[..^1].Select(e => JsonDocument.Parse(e).RootElement)
                    .Select(e => e.TryGetProperty("error", out var error) ? "error: " + error : e.GetProperty("system_fingerprint").GetString())
                    .Distinct().ToList();
                return revisions.Count == 1 && revisions[0]!.StartsWith("rev-", StringComparison.Ordinal)
                    ? new Outcome(revisions[0], null, newestAtStart, true)
                    : new Outcome(null, "chunks named " + string.Join(", ", revisions), newestAtStart, true);
            }
        }
        catch (Exception e)
        {
            return new Outcome(null, e.ToString(), newestAtStart, stream);
        }
    }

    private static async Task<JsonElement> WaitForRejectionAsync(HttpClient client, string revision)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (_, body) = await Http.GetAsync(client, "/v1/models/hot");
            if (body.TryGetProperty("rejected_revisions", out var rejected) && rejected.EnumerateArray().Any(r => r.GetProperty("revision").GetString() == revision))
            {
                return body;
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"revision {revision} was not rejected: {body}");
            await Task.Delay(100);
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_temp)) Directory.Delete(_temp, recursive: true);
    }
}
