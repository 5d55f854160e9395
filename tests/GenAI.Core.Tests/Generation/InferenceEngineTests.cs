using GenAI.Core.Generation;
using GenAI.Core.Models;
using GenAI.Core.Tests.Models;
using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Generation;

/// <summary>The fixture model and its GPT-2 tokenizer behind one engine, shared by the engine tests.</summary>
public sealed class EngineFixture : IDisposable
{
    public EngineFixture()
    {
        Model = ModelLoader.Load(TestPaths.Gpt2Tiny, new ModelLoadOptions { Device = "cpu" });
        Tokenizer = TokenizerLoader.Load(TestPaths.Gpt2Tiny);
        Engine = new InferenceEngine(Model, Tokenizer, new EngineOptions { MaxBatchRows = 16, MaxQueuedRequests = 64 }, "test");
    }

    public CausalLanguageModel Model { get; }

    public TextTokenizer Tokenizer { get; }

    public InferenceEngine Engine { get; }

    public void Dispose()
    {
        Engine.Dispose();
        Model.Dispose();
    }
}

public sealed class InferenceEngineTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static readonly SamplingParameters Greedy24 = new() { Temperature = 0, MaxTokens = 24, IgnoreEos = true };

    private static readonly string[] OtherPrompts =
    [
        "To be, or not to be, that is the question:",
        "Once upon a time",
        "In the beginning God created the heaven and the earth. And the earth was without form, and void;",
        "x",
        "The capital of France is",
        "def fibonacci(n):\n    if n < 2:\n        return n",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor",
    ];

    private IReadOnlyList<int> Encode(string text) => fixture.Tokenizer.Encode(text);

    [Theory]
    [MemberData(nameof(ReferenceOutputs.PromptIndices), MemberType = typeof(ReferenceOutputs))]
    public async Task GreedyMatchesTheFixture(int index)
    {
        var prompt = ReferenceOutputs.Prompts[index];
        var output = await EngineTestKit.Run(fixture.Engine, prompt.Ids.Select(i => (int)i).ToList(), Greedy24);
        Assert.Equal(prompt.GreedyIds.Select(i => (int)i), output.Tokens);
        Assert.Equal(FinishReason.Length, output.Finish);
        Assert.Equal(fixture.Tokenizer.Decode(output.Tokens), output.Text);
    }

    [Fact]
    public async Task GreedyBatchedWithSevenOthersEqualsAlone()
    {
        var prompts = new[] { ReferenceOutputs.Prompts[0].Ids.Select(i => (int)i).ToList() }
            .Concat(OtherPrompts.Select(p => Encode(p).ToList())).ToList();
        var alone = new List<EngineTestKit.Output>();
        foreach (var prompt in prompts) alone.Add(await EngineTestKit.Run(fixture.Engine, prompt, Greedy24 with { MaxTokens = 20 + prompt.Count % 7 }));

        var together = await Task.WhenAll(prompts.Select(p => EngineTestKit.Run(fixture.Engine, p, Greedy24 with { MaxTokens = 20 + p.Count % 7 })));
        for (int i = 0; i < prompts.Count; i++) Assert.Equal(alone[i].Tokens, together[i].Tokens);
        Assert.Equal(ReferenceOutputs.Prompts[0].GreedyIds.Take(together[0].Tokens.Count).Select(i => (int)i), together[0].Tokens);
    }

    [Fact]
    public async Task SeededSamplingIsReproducibleAloneAndBatched()
    {
        var prompt = Encode("The quick brown fox");
        var sampling = new SamplingParameters { Temperature = 0.9, TopP = 0.95, TopK = 500, Seed = 1234, MaxTokens = 32, IgnoreEos = true };
        var first = await EngineTestKit.Run(fixture.Engine, prompt, sampling);
        var second = await EngineTestKit.Run(fixture.Engine, prompt, sampling);
        Assert.Equal(first.Tokens, second.Tokens);

        var noise = OtherPrompts.Select((p, i) => EngineTestKit.Run(fixture.Engine, Encode(p),
            new SamplingParameters { Temperature = 1.2, Seed = i, MaxTokens = 40, IgnoreEos = true, RepetitionPenalty = 1.3 })).ToList();
        var batched = EngineTestKit.Run(fixture.Engine, prompt, sampling);
        await Task.WhenAll(noise);
        Assert.Equal(first.Tokens, (await batched).Tokens);

        var otherSeed = await EngineTestKit.Run(fixture.Engine, prompt, sampling with { Seed = 99 });
        Assert.NotEqual(first.Tokens, otherSeed.Tokens);
    }

    [Fact]
    public async Task StopStringSpanningTokensEndsTheTextBeforeIt()
    {
        // Greedy output of this prompt is " coordinate coordinate ..."; "ate coord" spans two tokens.
        var prompt = ReferenceOutputs.Prompts[0].Ids.Select(i => (int)i).ToList();
        var output = await EngineTestKit.Run(fixture.Engine, prompt, Greedy24 with { Stop = ["ate coord"] });
        Assert.Equal(" coordin", output.Text);
        Assert.Equal(FinishReason.Stop, output.Finish);
        Assert.DoesNotContain(output.Pieces, p => p.Contains("ate"));
    }

    [Fact]
    public async Task StopTokenIdsAndMinTokens()
    {
        var prompt = ReferenceOutputs.Prompts[0].Ids.Select(i => (int)i).ToList();
        int coordinate = (int)ReferenceOutputs.Prompts[0].GreedyIds[0];
        var stopped = await EngineTestKit.Run(fixture.Engine, prompt, Greedy24 with { StopTokenIds = [coordinate] });
        Assert.Equal([coordinate], stopped.Tokens);
        Assert.Equal("", stopped.Text);
        Assert.Equal(FinishReason.Stop, stopped.Finish);

        // min_tokens bans the stop token for three tokens even when it is made overwhelmingly likely.
        var delayed = await EngineTestKit.Run(fixture.Engine, prompt, Greedy24 with
        {
            StopTokenIds = [coordinate], MinTokens = 3, LogitBias = new Dictionary<int, double> { [coordinate] = 100 },
        });
        Assert.Equal(4, delayed.Tokens.Count);
        Assert.Equal(coordinate, delayed.Tokens[^1]);
        Assert.DoesNotContain(coordinate, delayed.Tokens.Take(3));
    }

    [Fact]
    public async Task EmojiAndCjkStreamNeverShowBrokenCharacters()
    {
        // Force the output to be the byte-level tokens of the text, in order: descending logit biases far above
        // the model's own logits, and no token twice (no_repeat_ngram_size 1). Tokens of emoji and CJK are partial
        // UTF-8 sequences, so the stream must hold bytes back until a character is whole.
        const string text = "🚀 日本語 café";
        var target = Encode(text);
        Assert.Equal(target.Count, target.Distinct().Count());
        var bias = target.Select((t, i) => (t, 100.0 - 8 * i)).ToDictionary(x => x.t, x => x.Item2);
        var prompt = Encode("Hello");
        var output = await EngineTestKit.Run(fixture.Engine, prompt,
            new SamplingParameters { Temperature = 0, MaxTokens = target.Count, IgnoreEos = true, NoRepeatNgramSize = 1, LogitBias = bias });
        Assert.True(target.SequenceEqual(output.Tokens), $"[{string.Join(",", target)}] vs [{string.Join(",", output.Tokens)}] finish {output.Finish}");
        Assert.Equal(text, output.Text);
        Assert.DoesNotContain(output.Pieces, p => p.Contains('\uFFFD'));
        Assert.Contains(output.Pieces, p => p.Length == 0); // some tokens had to wait for the rest of their character
    }

    [Fact]
    public async Task LogProbsAreReportedAfterPenalties()
    {
        var prompt = ReferenceOutputs.Prompts[0];
        var output = await EngineTestKit.Run(fixture.Engine, prompt.Ids.Select(i => (int)i).ToList(), Greedy24 with { MaxTokens = 1, LogProbs = 5 });
        var logProb = output.Events[0].LogProb!;
        Assert.Equal(prompt.Top5Ids.Select(i => (int)i), logProb.Top.Select(t => t.TokenId));
        for (int i = 0; i < 5; i++) Assert.True(Math.Abs(prompt.Top5Logprobs[i] - logProb.Top[i].LogProb) <= 1e-3);
        Assert.Equal(logProb.Top[0].LogProb, logProb.LogProb);
    }

    [Fact]
    public async Task InvalidRequestsAreRefusedBeforeQueuing()
    {
        var prompt = Encode("Hello");
        var tooLong = Assert.Throws<InvalidGenerationRequestException>(() => fixture.Engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = new() { MaxTokens = 500 } }));
        Assert.Equal("max_tokens", tooLong.Parameter);
        Assert.Contains("context of 128", tooLong.Message);
        Assert.Equal("top_p", Assert.Throws<InvalidGenerationRequestException>(() => fixture.Engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = new() { TopP = 0 } })).Parameter);
        Assert.Equal("temperature", Assert.Throws<InvalidGenerationRequestException>(() => fixture.Engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = new() { Temperature = double.NaN } })).Parameter);
        Assert.Equal("num_beams", Assert.Throws<InvalidGenerationRequestException>(() => fixture.Engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = new() { NumBeams = 17 } })).Parameter);
        Assert.Equal("prompt", Assert.Throws<InvalidGenerationRequestException>(() => fixture.Engine.Submit(new GenerationRequest { PromptTokens = [1, 99999] })).Parameter);
        Assert.Equal("prompt", Assert.Throws<InvalidGenerationRequestException>(() => fixture.Engine.Submit(new GenerationRequest { PromptTokens = [] })).Parameter);
        Assert.Equal("logit_bias", Assert.Throws<InvalidGenerationRequestException>(() => fixture.Engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = new() { LogitBias = new Dictionary<int, double> { [3] = 101 } } })).Parameter);
        // The engine keeps serving.
        Assert.Equal(FinishReason.Length, (await EngineTestKit.Run(fixture.Engine, prompt, Greedy24 with { MaxTokens = 2 })).Finish);
    }
}
