using GenAI.Core.Generation;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Generation;

/// <summary>
/// The processors on the model-free vectors Hugging Face's own tests use, expected values worked out from the
/// definitions (probabilities compared at 1e-6).
/// </summary>
public class LogitsProcessorsTests
{
    private static Tensor Logits(params double[] probs) => tensor(probs.Select(p => (float)Math.Log(p)).ToArray());

    private static float[] Probs(Tensor logits) => logits.softmax(0).data<float>().ToArray();

    private static void AssertValues(double[] expected, float[] actual, double tolerance = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}] {actual[i]} != {expected[i]}");
    }

    [Fact]
    public void TopPKeepsTheTokenThatCrossesP()
    {
        using var scope = NewDisposeScope();
        // 0.5 alone is below 0.8; adding 0.3 crosses it: both kept, renormalized.
        AssertValues([0.3 / 0.8, 0, 0, 0.5 / 0.8], Probs(LogitsProcessors.TopP(Logits(0.3, 0.1, 0.1, 0.5), 0.8)));
        // 0.3 + 0.3 = 0.6 < 0.8; + 0.25 crosses: three kept.
        AssertValues([0, 0.3 / 0.85, 0.3 / 0.85, 0.25 / 0.85], Probs(LogitsProcessors.TopP(Logits(0.15, 0.3, 0.3, 0.25), 0.8)));
    }

    [Fact]
    public void TopPAlwaysKeepsTheMostLikelyToken()
    {
        using var scope = NewDisposeScope();
        AssertValues([0, 0, 1, 0], Probs(LogitsProcessors.TopP(Logits(0.1, 0.2, 0.6, 0.1), 0.01)));
    }

    [Fact]
    public void TopKKeepsTheKLargestAndTies()
    {
        using var scope = NewDisposeScope();
        var ramp = arange(10, ScalarType.Float32);
        var kept = LogitsProcessors.TopK(ramp, 3).data<float>().ToArray();
        Assert.All(kept.Take(7), v => Assert.True(float.IsNegativeInfinity(v)));
        Assert.Equal([7f, 8f, 9f], kept.Skip(7));

        var tied = LogitsProcessors.TopK(tensor(new float[] { 1, 3, 3, 2, 3 }), 2).data<float>().ToArray();
        Assert.Equal([float.NegativeInfinity, 3, 3, float.NegativeInfinity, 3], tied);
    }

    [Fact]
    public void MinPDropsTokensBelowTheScaledTopProbability()
    {
        using var scope = NewDisposeScope();
        // Threshold 0.1 × 0.9 = 0.09: only the first token survives.
        AssertValues([1, 0, 0, 0], Probs(LogitsProcessors.MinP(Logits(0.9, 0.03, 0.04, 0.03), 0.1)));
        // Threshold 0.1 × 0.3 = 0.03: all survive.
        AssertValues([0.15, 0.3, 0.3, 0.25], Probs(LogitsProcessors.MinP(Logits(0.15, 0.3, 0.3, 0.25), 0.1)), 1e-6);
        AssertValues([0, 0.3 / 0.85, 0.3 / 0.85, 0.25 / 0.85], Probs(LogitsProcessors.MinP(Logits(0.15, 0.3, 0.3, 0.25), 0.6)));
    }

    [Fact]
    public void RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits()
    {
        using var scope = NewDisposeScope();
        var result = LogitsProcessors.RepetitionPenalty(tensor(new float[] { -1f, 2f, 3f, 0.5f }), [0, 1, 1], 2.0);
        Assert.Equal([-2f, 1f, 3f, 0.5f], result.data<float>().ToArray());
    }

    [Fact]
    public void PresenceAndFrequencyPenaltiesFollowOpenAi()
    {
        using var scope = NewDisposeScope();
        var result = LogitsProcessors.PresenceFrequencyPenalty(zeros(4), new Dictionary<int, int> { [1] = 3, [2] = 1 }, presence: 0.5, frequency: 0.25);
        AssertValues([0, -(0.25 * 3 + 0.5), -(0.25 + 0.5), 0], result.data<float>().ToArray());
    }

    [Theory]
    [InlineData(2, new[] { 1, 1, 2, 1 }, new[] { 1, 2 })]
    [InlineData(2, new[] { 0, 1, 0, 1 }, new[] { 0 })]
    [InlineData(3, new[] { 1, 1, 2, 1 }, new int[0])]
    [InlineData(3, new[] { 0, 1, 0, 1 }, new[] { 0 })]
    [InlineData(3, new[] { 0, 1 }, new int[0])]
    public void NoRepeatNgramBansCompletingTokens(int n, int[] sequence, int[] banned)
    {
        using var scope = NewDisposeScope();
        var result = LogitsProcessors.NoRepeatNgram(zeros(3), sequence, n).data<float>().ToArray();
        for (int token = 0; token < 3; token++) Assert.Equal(banned.Contains(token), float.IsNegativeInfinity(result[token]));
    }

    [Fact]
    public void LogitBiasAndBanApply()
    {
        using var scope = NewDisposeScope();
        var biased = LogitsProcessors.LogitBias(zeros(3), new Dictionary<int, double> { [0] = -100, [2] = 5.5 });
        Assert.Equal([-100f, 0f, 5.5f], biased.data<float>().ToArray());
        Assert.True(float.IsNegativeInfinity(LogitsProcessors.Ban(zeros(3), [1]).data<float>()[1]));
    }

    [Fact]
    public void TemperatureDivides()
    {
        using var scope = NewDisposeScope();
        Assert.Equal([1f, -2f], LogitsProcessors.Temperature(tensor(new float[] { 0.5f, -1f }), 0.5).data<float>().ToArray());
    }
}
