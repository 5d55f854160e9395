namespace GenAI.Core.Generation;

/// <summary>
/// What a prefill pass of T padded tokens costs, learned from recent passes: seconds ≈ fixed + perToken × T, fitted by
/// least squares with older passes counting less (each new pass multiplies the weight of the earlier ones by
/// <see cref="Forgetting"/>), so the model follows a machine whose load changes. A pass has a fixed part (reading the
/// weights once, per-operation overheads) that a plain seconds-per-token average spreads over the tokens of large,
/// efficient passes; such an average then lets a small pass take several times longer than it predicted.
/// </summary>
internal sealed class PrefillCostModel
{
    private const double Forgetting = 0.8;
    private double _weight, _tokens, _tokensSquared, _seconds, _tokensSeconds;

    /// <summary>True once a pass has been seen.</summary>
    public bool IsKnown => _weight > 0;

    /// <summary>
    /// True when the recent passes had different sizes, so the fixed part is fitted rather than assumed 0 (a model that
    /// only saw large passes would underestimate a small one).
    /// </summary>
    public bool HasSpread => IsKnown && Variance() > 0.01 * Math.Pow(_tokens / _weight, 2);

    private double Variance() => _tokensSquared / _weight - Math.Pow(_tokens / _weight, 2);

    public void Add(int tokens, double seconds)
    {
        _weight = Forgetting * _weight + 1;
        _tokens = Forgetting * _tokens + tokens;
        _tokensSquared = Forgetting * _tokensSquared + (double)tokens * tokens;
        _seconds = Forgetting * _seconds + seconds;
        _tokensSeconds = Forgetting * _tokensSeconds + tokens * seconds;
    }

    /// <summary>The fitted fixed seconds and seconds per token (both ≥ 0; proportional while the passes seen had one size).</summary>
    public (double Fixed, double PerToken) Fit()
    {
        double meanTokens = _tokens / _weight, meanSeconds = _seconds / _weight;
        double variance = Variance();
        if (HasSpread)
        {
            double perToken = (_tokensSeconds / _weight - meanTokens * meanSeconds) / variance;
            double fixedPart = meanSeconds - perToken * meanTokens;
            if (perToken > 0 && fixedPart >= 0) return (fixedPart, perToken);
            if (perToken > 0) return (0, meanSeconds / meanTokens); // a negative fixed part: noise, fall back to proportional
        }
        return (0, meanSeconds / Math.Max(meanTokens, 1));
    }

    /// <summary>Most tokens whose pass is expected to take at most <paramref name="seconds"/> (may be 0 or less when none fits).</summary>
    public int TokensWithin(double seconds)
    {
        var (fixedPart, perToken) = Fit();
        return (int)Math.Min(int.MaxValue, Math.Floor((seconds - fixedPart) / perToken));
    }
}
