using GenAI.Core.Generation;
using GenAI.Core.Tests.Models;
using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Generation;

/// <summary>
/// The engine runs the Llama-family fixtures as it runs GPT-2: every prompt of a fixture submitted at once (rows of
/// different lengths, batched decode) gives the float64 reference's greedy ids, seeded sampling repeats, and beam
/// search runs over the grouped-query cache.
/// </summary>
public sealed class LlamaFamilyEngineTests(DecoderFixtures fixtures) : IClassFixture<DecoderFixtures>
{
    private static readonly SamplingParameters Greedy24 = new() { Temperature = 0, MaxTokens = 24, IgnoreEos = true };

    [Theory]
    [MemberData(nameof(DecoderFixtures.All), MemberType = typeof(DecoderFixtures))]
    public async Task PromptsBatchedTogetherGiveTheReferenceGreedyIds(string name)
    {
        var prompts = ReferenceOutputs.Load(DecoderFixtures.Folder(name));
        var tokenizer = TokenizerLoader.Load(DecoderFixtures.Folder(name));
        using var engine = new InferenceEngine(fixtures.Model(name), tokenizer, new EngineOptions { MaxBatchRows = 4 });
        var outputs = await Task.WhenAll(prompts.Select(p => EngineTestKit.Run(engine, p.Ids.Select(i => (int)i).ToList(), Greedy24)));
        for (int i = 0; i < prompts.Count; i++)
        {
            Assert.Equal(prompts[i].GreedyIds.Select(id => (int)id), outputs[i].Tokens);
            Assert.Equal(tokenizer.Decode(outputs[i].Tokens), outputs[i].Text);
        }
    }

    [Fact]
    public async Task SeededSamplingRepeatsAndBeamSearchRuns()
    {
        var prompt = ReferenceOutputs.Load(DecoderFixtures.Folder("phi3-tiny"))[1].Ids.Select(i => (int)i).ToList();
        using var engine = new InferenceEngine(fixtures.Model("phi3-tiny"), TokenizerLoader.Load(DecoderFixtures.Folder("phi3-tiny")), new EngineOptions { MaxBatchRows = 8 });
        var sampled = new SamplingParameters { Temperature = 1.0, TopK = 50, MaxTokens = 12, Seed = 5 };
        var first = await EngineTestKit.Run(engine, prompt, sampled);
        var second = await EngineTestKit.Run(engine, prompt, sampled);
        Assert.Equal(first.Tokens, second.Tokens);
        Assert.Equal(12, first.Tokens.Count);

        var beams = await EngineTestKit.Run(engine, prompt, new SamplingParameters { NumBeams = 4, MaxTokens = 6, Temperature = 0 });
        Assert.Equal(6, beams.Tokens.Count);
    }
}
