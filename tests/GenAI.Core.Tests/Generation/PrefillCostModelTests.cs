using GenAI.Core.Generation;

namespace GenAI.Core.Tests.Generation;

/// <summary>The learned cost of a prefill pass, which sizes the passes that run while streams are generating.</summary>
public sealed class PrefillCostModelTests
{
    [Fact]
    public void PassesOfDifferentSizesGiveTheFixedPartAndThePerTokenCost()
    {
        var model = new PrefillCostModel();
        foreach (int tokens in new[] { 8, 16, 12, 4, 16 }) model.Add(tokens, 0.020 + 0.002 * tokens); // 20 ms + 2 ms a token
        Assert.True(model.HasSpread);
        var (fixedPart, perToken) = model.Fit();
        Assert.Equal(0.020, fixedPart, 1e-9);
        Assert.Equal(0.002, perToken, 1e-9);
        Assert.Equal(15, model.TokensWithin(0.050 + 1e-9)); // (50 - 20) / 2
        Assert.True(model.TokensWithin(0.015) <= 0); // not even an empty pass fits
    }

    [Fact]
    public void PassesOfOneSizeArePricedProportionally()
    {
        var model = new PrefillCostModel();
        Assert.False(model.IsKnown);
        model.Add(256, 0.512);
        model.Add(256, 0.512);
        Assert.True(model.IsKnown);
        Assert.False(model.HasSpread); // a small pass would cost more than this model says: the engine does not extrapolate with it
        Assert.Equal((0.0, 0.002), model.Fit());
    }

    [Fact]
    public void RecentPassesCountMoreThanOldOnes()
    {
        var model = new PrefillCostModel();
        for (int i = 0; i < 40; i++) model.Add(8 + i % 9, 0.001 * (8 + i % 9)); // 1 ms a token
        for (int i = 0; i < 40; i++) model.Add(8 + i % 9, 0.004 * (8 + i % 9)); // the machine got 4x slower
        Assert.Equal(0.004, model.Fit().PerToken, 1e-4);
    }
}
