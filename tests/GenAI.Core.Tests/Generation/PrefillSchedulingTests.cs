using System.Collections.Concurrent;
using GenAI.Core.Generation;
using GenAI.Core.Models;
using GenAI.Core.Tests.Models;
using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Generation;

/// <summary>
/// Batched and chunked prefill and the prefix cache change when prompt tokens are computed, never what comes out:
/// the reference greedy ids come out of prompts read in 7-token chunks, of several prompts read in one pass, and of
/// prompts whose start the prefix cache supplied; the cache stays within its budget.
/// </summary>
public sealed class PrefillSchedulingTests(DecoderFixtures fixtures) : IClassFixture<DecoderFixtures>
{
    private static readonly SamplingParameters Greedy24 = new() { Temperature = 0, MaxTokens = 24, IgnoreEos = true };

    private static List<int> Ids(ReferencePrompt prompt) => prompt.Ids.Select(i => (int)i).ToList();

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("mistral-tiny")] // a sliding window of 8 across chunk boundaries
    [InlineData("llama3-tiny")]
    public async Task PromptsReadInSmallChunksGiveTheReferenceIds(string name)
    {
        var (model, tokenizer, prompts) = Fixture(name);
        using var engine = new InferenceEngine(model, tokenizer, new EngineOptions { MaxPrefillTokensPerStep = 7, PrefixCacheBytes = 0 });
        var passes = new ConcurrentBag<(int Prompts, int Tokens)>();
        engine.PrefillCompleted += (count, tokens) => passes.Add((count, tokens));
        foreach (var prompt in prompts)
        {
            var output = await EngineTestKit.Run(engine, Ids(prompt), Greedy24);
            Assert.Equal(prompt.GreedyIds.Select(i => (int)i), output.Tokens);
        }
        Assert.All(passes, p => Assert.True(p.Tokens <= 7, $"a pass read {p.Tokens} tokens"));
        Assert.Equal(prompts.Sum(p => p.Ids.Length), passes.Sum(p => p.Tokens));
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("qwen3-tiny")]
    [InlineData("phi3-tiny")]
    public async Task PromptsOfDifferentLengthsShareOnePassAndGiveTheReferenceIds(string name)
    {
        var (model, tokenizer, prompts) = Fixture(name);
        using var engine = new InferenceEngine(model, tokenizer, new EngineOptions { MaxBatchRows = 8, PrefixCacheBytes = 0 });
        var passes = new ConcurrentBag<int>();
        engine.PrefillCompleted += (count, _) => passes.Add(count);
        // Queued together (the engine is busy with a long request), then read together.
        var blocker = EngineTestKit.Run(engine, Ids(prompts[0]), Greedy24 with { MaxTokens = 60 });
        var outputs = await Task.WhenAll(prompts.Select(p => EngineTestKit.Run(engine, Ids(p), Greedy24)));
        await blocker;
        for (int i = 0; i < prompts.Count; i++) Assert.Equal(prompts[i].GreedyIds.Select(id => (int)id), outputs[i].Tokens);
        Assert.Contains(passes, count => count > 1);
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("qwen2-tiny")]
    public async Task PrefixCacheHitsChangeNothingButTheWork(string name)
    {
        var (model, tokenizer, prompts) = Fixture(name);
        var longest = Ids(prompts.MaxBy(p => p.Ids.Length)!);
        using var cached = new InferenceEngine(model, tokenizer, new EngineOptions());
        using var plain = new InferenceEngine(model, tokenizer, new EngineOptions { PrefixCacheBytes = 0 });
        var first = await EngineTestKit.Run(cached, longest, Greedy24);
        Assert.Equal(prompts.MaxBy(p => p.Ids.Length)!.GreedyIds.Select(i => (int)i), first.Tokens);

        // The same prompt again, then a conversation's next turn: the earlier prompt, its answer and more.
        var again = await EngineTestKit.Run(cached, longest, Greedy24);
        Assert.Equal(first.Tokens, again.Tokens);
        var (hit, queried) = cached.PrefixCacheTokens;
        Assert.True(hit >= longest.Count - 1 - PrefixCache.BlockSize, $"hit {hit} of {queried}");

        var nextTurn = longest.Concat(first.Tokens.Take(20)).Concat(Ids(prompts[0]).Take(5)).ToList();
        var withCache = await EngineTestKit.Run(cached, nextTurn, Greedy24 with { MaxTokens = 12 });
        var without = await EngineTestKit.Run(plain, nextTurn, Greedy24 with { MaxTokens = 12 });
        Assert.Equal(without.Tokens, withCache.Tokens);
        Assert.True(cached.PrefixCacheTokens.Hit - hit >= longest.Count, "the next turn reused the first turn");
        Assert.Equal((0, 0), plain.PrefixCacheTokens);
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("llama3-tiny")]
    public async Task PromptsArrivingTogetherAreAllReadBeforeTheFirstDecodeStep(string name)
    {
        var (model, tokenizer, prompts) = Fixture(name);
        // Passes of 7 tokens: every prompt takes several, and the first to finish would otherwise decode alone.
        using var engine = new InferenceEngine(model, tokenizer, new EngineOptions { MaxBatchRows = 8, MaxPrefillTokensPerStep = 7, PrefixCacheBytes = 0 });
        var steps = new ConcurrentQueue<int>();
        engine.StepCompleted += rows => steps.Enqueue(rows);
        var outputs = await Task.WhenAll(prompts.Select(p => EngineTestKit.Run(engine, Ids(p), Greedy24)));
        for (int i = 0; i < prompts.Count; i++) Assert.Equal(prompts[i].GreedyIds.Select(id => (int)id), outputs[i].Tokens);
        Assert.Equal(prompts.Count, steps.First());
    }

    [Fact]
    public async Task ARunningStreamKeepsDecodingWhilePromptsArrive()
    {
        // Room for a stream that outlasts the arrivals by far (the assertion needs it running throughout).
        string folder = TestPaths.DecoderModelWithContext("llama3-tiny", 2048);
        using var model = ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu" });
        var tokenizer = TokenizerLoader.Load(folder);
        var prompts = ReferenceOutputs.Load(DecoderFixtures.Folder("llama3-tiny"));
        using var engine = new InferenceEngine(model, tokenizer, new EngineOptions { MaxBatchRows = 8, MaxPrefillTokensPerStep = 7, PrefixCacheBytes = 0 });
        var events = new ConcurrentQueue<string>();
        engine.StepCompleted += _ => events.Enqueue("decode");
        engine.PrefillCompleted += (_, _) => events.Enqueue("prefill");
        var request = new GenerationRequest { PromptTokens = Ids(prompts[0]), Parameters = Greedy24 with { MaxTokens = 1900 } };
        await using var running = engine.Submit(request).GetAsyncEnumerator();
        // The stream is decoding: past its first token (prompts arriving with that one would join its burst).
        for (int i = 0; i < 3; i++) Assert.True(await running.MoveNextAsync());
        events.Clear();
        await Task.WhenAll(prompts.Skip(1).Select(p => EngineTestKit.Run(engine, Ids(p), Greedy24 with { MaxTokens = 2 })));
        // While the arrivals' prompts were read, 7 tokens a pass, the running stream's decode steps went on between the passes.
        var order = events.ToList();
        int firstPrefill = order.IndexOf("prefill"), lastPrefill = order.LastIndexOf("prefill");
        Assert.True(firstPrefill >= 0);
        Assert.True(order.Skip(firstPrefill).Take(lastPrefill - firstPrefill).Count(e => e == "decode") >= order.Count(e => e == "prefill") - 1,
            string.Join(" ", order));
    }

    [Fact]
    public async Task PrefixCacheStaysWithinItsBudget()
    {
        var (model, tokenizer, prompts) = Fixture("gpt2-tiny");
        using var probe = model.CreateKvCache(1, 8);
        long budget = 40 * probe.BytesPerPosition; // room for one of these sequences at a time
        using var engine = new InferenceEngine(model, tokenizer, new EngineOptions { PrefixCacheBytes = budget });
        foreach (var prompt in prompts)
        {
            await EngineTestKit.Run(engine, Ids(prompt), Greedy24 with { MaxTokens = 4 });
            Assert.InRange(engine.PrefixCacheBytes, 0, budget);
        }
        Assert.True(engine.PrefixCacheBytes > 0);
    }

    private (Core.Models.CausalLanguageModel Model, TextTokenizer Tokenizer, List<ReferencePrompt> Prompts) Fixture(string name)
    {
        string folder = name == "gpt2-tiny" ? TestPaths.Gpt2Tiny : DecoderFixtures.Folder(name);
        var model = name == "gpt2-tiny" ? fixtures.Gpt2 : fixtures.Model(name);
        return (model, TokenizerLoader.Load(folder), ReferenceOutputs.Load(folder));
    }
}
