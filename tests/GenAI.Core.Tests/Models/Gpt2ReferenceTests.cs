using GenAI.Core.Checkpoints;
using GenAI.Core.Models;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models;

/// <summary>
/// The fixture's reference outputs (an independent float64 PyTorch GPT2LMHeadModel) reproduced by our F32 model.
/// Tolerances: logits and log-probs atol 1e-3 (the fixture's stated F32 bound); incremental decoding vs full
/// forward atol 1e-4; greedy ids identical (the fixture's argmax margins are at least 0.008).
/// </summary>
public sealed class Gpt2ReferenceTests(Gpt2TinyFixture fixture) : IClassFixture<Gpt2TinyFixture>
{
    private readonly CausalLanguageModel _model = fixture.Model;

    [Fact]
    public void FullLogitsMatchReferenceElementwise()
    {
        using var reference = SafetensorsFile.Open(Path.Combine(TestPaths.Gpt2Tiny, "reference_logits.safetensors"));
        using var ids = reference.ReadTensor("input_ids");
        using var expected = reference.ReadTensor("logits");
        var actual = Decoding.FullLogits(_model, ids.data<long>().ToArray());
        var expectedValues = expected.data<float>().ToArray();
        Assert.Equal(expectedValues.Length, actual.Length);
        double maxDiff = expectedValues.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(maxDiff <= 1e-3, $"max abs logit difference {maxDiff}");
    }

    [Theory]
    [MemberData(nameof(ReferenceOutputs.PromptIndices), MemberType = typeof(ReferenceOutputs))]
    public void LogitsTopFiveAndSumsMatchReference(int index)
    {
        var prompt = ReferenceOutputs.Prompts[index];
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var logits = _model.Forward(tensor(prompt.Ids, [1, prompt.Ids.Length]))[0];
        var last = logits[-1];
        var first8 = last.narrow(0, 0, 8).data<float>().ToArray();
        for (int i = 0; i < 8; i++) Assert.True(Math.Abs(first8[i] - prompt.LastLogitsFirst8[i]) <= 1e-3, $"logit {i}: {first8[i]} vs {prompt.LastLogitsFirst8[i]}");

        var sums = logits.to(ScalarType.Float64).sum(1).data<double>().ToArray();
        for (int t = 0; t < sums.Length; t++)
        {
            // A sum of 50257 logits, each within 1e-3 of the reference.
            Assert.True(Math.Abs(sums[t] - prompt.LogitsSumPerPosition[t]) <= 0.05, $"sum at {t}: {sums[t]} vs {prompt.LogitsSumPerPosition[t]}");
        }

        var (values, ids) = nn.functional.log_softmax(last, 0).topk(5);
        Assert.Equal(prompt.Top5Ids, ids.data<long>().ToArray());
        var logprobs = values.data<float>().ToArray();
        for (int i = 0; i < 5; i++) Assert.True(Math.Abs(logprobs[i] - prompt.Top5Logprobs[i]) <= 1e-3, $"logprob {i}: {logprobs[i]} vs {prompt.Top5Logprobs[i]}");
    }

    [Theory]
    [MemberData(nameof(ReferenceOutputs.PromptIndices), MemberType = typeof(ReferenceOutputs))]
    public void GreedyWithKvCacheMatchesReference(int index)
    {
        var prompt = ReferenceOutputs.Prompts[index];
        var (tokens, _) = Decoding.GreedyWithCache(_model, prompt.Ids, prompt.GreedyIds.Length);
        Assert.Equal(prompt.GreedyIds, tokens);
    }

    [Theory]
    [MemberData(nameof(ReferenceOutputs.PromptIndices), MemberType = typeof(ReferenceOutputs))]
    public void IncrementalDecodeEqualsFullForward(int index)
    {
        var prompt = ReferenceOutputs.Prompts[index];
        var (tokens, stepLogits) = Decoding.GreedyWithCache(_model, prompt.Ids, 24);
        var sequence = prompt.Ids.Concat(tokens).ToArray();
        var full = Decoding.FullLogits(_model, sequence);
        int vocab = _model.Config.VocabSize;
        double maxDiff = 0;
        for (int step = 0; step < stepLogits.Count; step++)
        {
            int position = prompt.Ids.Length - 1 + step;
            for (int v = 0; v < vocab; v++) maxDiff = Math.Max(maxDiff, Math.Abs(full[position * vocab + v] - stepLogits[step][v]));
        }
        Assert.True(maxDiff <= 1e-4, $"max abs difference between cached and full logits {maxDiff}");
    }

    [Fact]
    public void BatchOfDifferentLengthsDecodesLikeEachAlone()
    {
        var prompts = ReferenceOutputs.Prompts;
        int steps = 24;
        using var inference = inference_mode();
        using var cache = _model.CreateKvCache(prompts.Count, prompts.Max(p => p.Ids.Length) + steps);
        var next = new long[prompts.Count];
        for (int row = 0; row < prompts.Count; row++)
        {
            using var scope = NewDisposeScope();
            var ids = prompts[row].Ids;
            next[row] = _model.Forward(tensor(ids, [1, ids.Length]), cache, row, lastPositionOnly: true)[0, 0].argmax().item<long>();
        }
        var generated = prompts.Select(_ => new List<long>()).ToArray();
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            for (int row = 0; row < prompts.Count; row++) generated[row].Add(next[row]);
            var logits = _model.Forward(tensor(next, [prompts.Count, 1]), cache, 0, lastPositionOnly: true);
            next = logits[.., 0].argmax(1).data<long>().ToArray();
        }
        for (int row = 0; row < prompts.Count; row++) Assert.Equal(prompts[row].GreedyIds, generated[row]);
    }

    [Fact]
    public void FullRecomputationGreedyMatchesReference()
    {
        var prompt = ReferenceOutputs.Prompts[2];
        Assert.Equal(prompt.GreedyIds, Decoding.GreedyFull(_model, prompt.Ids, prompt.GreedyIds.Length));
    }
}
