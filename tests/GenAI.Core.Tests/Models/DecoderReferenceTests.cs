using GenAI.Core.Checkpoints;
using GenAI.Core.Models;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models;

/// <summary>
/// The Llama-family fixtures' float64 reference outputs reproduced by our model, with and without the KV cache and
/// batched with rows of different lengths. Tolerances as the fixtures state them: computing in float32, logits atol
/// 1e-3 (measured differences are at most 3.5e-5) and identical greedy ids (every argmax margin is at least 0.0104);
/// computing in bfloat16, logits atol 1.5.
/// </summary>
public sealed class DecoderReferenceTests(DecoderFixtures fixtures) : IClassFixture<DecoderFixtures>
{
    [Theory]
    [MemberData(nameof(DecoderFixtures.All), MemberType = typeof(DecoderFixtures))]
    public void FullLogitsMatchReferenceElementwise(string name)
    {
        var (ids, expected) = ReferenceLogits(name);
        var actual = Decoding.FullLogits(fixtures.Model(name), ids);
        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(maxDiff <= 1e-3, $"{name}: max abs logit difference {maxDiff}");
    }

    [Theory]
    [MemberData(nameof(DecoderFixtures.AllPrompts), MemberType = typeof(DecoderFixtures))]
    public void LogitsTopFiveAndSumsMatchReference(string name, int index)
    {
        var prompt = ReferenceOutputs.Load(DecoderFixtures.Folder(name))[index];
        var model = fixtures.Model(name);
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var logits = model.Forward(tensor(prompt.Ids, [1, prompt.Ids.Length]))[0];
        var last = logits[-1];
        var first8 = last.narrow(0, 0, 8).data<float>().ToArray();
        for (int i = 0; i < 8; i++) Assert.True(Math.Abs(first8[i] - prompt.LastLogitsFirst8[i]) <= 1e-3, $"logit {i}: {first8[i]} vs {prompt.LastLogitsFirst8[i]}");

        var sums = logits.to(ScalarType.Float64).sum(1).data<double>().ToArray();
        Assert.Equal(prompt.LogitsSumPerPosition.Length, sums.Length);
        for (int t = 0; t < sums.Length; t++)
        {
            // A sum of up to 152k logits, each within 1e-3 of the reference (in practice within 4e-5).
            Assert.True(Math.Abs(sums[t] - prompt.LogitsSumPerPosition[t]) <= 0.1, $"sum at {t}: {sums[t]} vs {prompt.LogitsSumPerPosition[t]}");
        }

        var (values, top) = nn.functional.log_softmax(last, 0).topk(5);
        Assert.Equal(prompt.Top5Ids, top.data<long>().ToArray());
        var logprobs = values.data<float>().ToArray();
        for (int i = 0; i < 5; i++) Assert.True(Math.Abs(logprobs[i] - prompt.Top5Logprobs[i]) <= 1e-3, $"logprob {i}: {logprobs[i]} vs {prompt.Top5Logprobs[i]}");
    }

    [Theory]
    [MemberData(nameof(DecoderFixtures.AllPrompts), MemberType = typeof(DecoderFixtures))]
    public void GreedyWithKvCacheMatchesReference(string name, int index)
    {
        var prompt = ReferenceOutputs.Load(DecoderFixtures.Folder(name))[index];
        var (tokens, _) = Decoding.GreedyWithCache(fixtures.Model(name), prompt.Ids, prompt.GreedyIds.Length);
        Assert.Equal(prompt.GreedyIds, tokens);
    }

    [Theory]
    [MemberData(nameof(DecoderFixtures.All), MemberType = typeof(DecoderFixtures))]
    public void FullRecomputationGreedyMatchesReference(string name)
    {
        var prompt = ReferenceOutputs.Load(DecoderFixtures.Folder(name))[2];
        Assert.Equal(prompt.GreedyIds, Decoding.GreedyFull(fixtures.Model(name), prompt.Ids, prompt.GreedyIds.Length));
    }

    [Theory]
    [MemberData(nameof(DecoderFixtures.All), MemberType = typeof(DecoderFixtures))]
    public void IncrementalDecodeEqualsFullForward(string name)
    {
        var model = fixtures.Model(name);
        var prompt = ReferenceOutputs.Load(DecoderFixtures.Folder(name))[1];
        var (tokens, stepLogits) = Decoding.GreedyWithCache(model, prompt.Ids, 24);
        var full = Decoding.FullLogits(model, prompt.Ids.Concat(tokens).ToArray());
        int vocab = model.Config.VocabSize;
        double maxDiff = 0;
        for (int step = 0; step < stepLogits.Count; step++)
        {
            int position = prompt.Ids.Length - 1 + step;
            for (int v = 0; v < vocab; v++) maxDiff = Math.Max(maxDiff, Math.Abs(full[position * vocab + v] - stepLogits[step][v]));
        }
        Assert.True(maxDiff <= 1e-4, $"{name}: max abs difference between cached and full logits {maxDiff}");
    }

    [Theory]
    [MemberData(nameof(DecoderFixtures.All), MemberType = typeof(DecoderFixtures))]
    public void BatchOfDifferentLengthsDecodesLikeEachAlone(string name)
    {
        var model = fixtures.Model(name);
        var prompts = ReferenceOutputs.Load(DecoderFixtures.Folder(name));
        int steps = 24;
        using var inference = inference_mode();
        using var cache = model.CreateKvCache(prompts.Count, prompts.Max(p => p.Ids.Length) + steps);
        var next = new long[prompts.Count];
        // The rows' prompts are prefilled together in one forward pass where they share a length, alone otherwise.
        for (int row = 0; row < prompts.Count; row++)
        {
            using var scope = NewDisposeScope();
            var ids = prompts[row].Ids;
            next[row] = model.Forward(tensor(ids, [1, ids.Length]), cache, row, lastPositionOnly: true)[0, 0].argmax().item<long>();
        }
        var generated = prompts.Select(_ => new List<long>()).ToArray();
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            for (int row = 0; row < prompts.Count; row++) generated[row].Add(next[row]);
            var logits = model.Forward(tensor(next, [prompts.Count, 1]), cache, 0, lastPositionOnly: true);
            next = logits[.., 0].argmax(1).data<long>().ToArray();
        }
        for (int row = 0; row < prompts.Count; row++) Assert.Equal(prompts[row].GreedyIds, generated[row]);
    }

    [Theory]
    [MemberData(nameof(DecoderFixtures.All), MemberType = typeof(DecoderFixtures))]
    public void BFloat16ComputeStaysWithinTheStatedBound(string name)
    {
        var (ids, expected) = ReferenceLogits(name);
        var actual = Decoding.FullLogits(fixtures.Model(name, ScalarType.BFloat16), ids);
        double maxDiff = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(maxDiff <= 1.5, $"{name}: max abs logit difference in bfloat16 {maxDiff}");
    }

    private static (long[] Ids, float[] Logits) ReferenceLogits(string name)
    {
        using var reference = SafetensorsFile.Open(Path.Combine(DecoderFixtures.Folder(name), "reference_logits.safetensors"));
        using var ids = reference.ReadTensor("input_ids");
        using var logits = reference.ReadTensor("logits");
        return (ids.data<long>().ToArray(), logits.data<float>().ToArray());
    }
}
