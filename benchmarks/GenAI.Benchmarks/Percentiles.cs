namespace GenAI.Benchmarks;

/// <summary>Latency percentiles as the benchmarks print them.</summary>
internal static class Percentiles
{
    /// <summary>The nearest-rank <paramref name="percentile"/> of <paramref name="values"/> (0 for none).</summary>
    public static double Of(List<double> values, int percentile)
    {
        if (values.Count == 0) return 0;
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>The nearest-rank <paramref name="percentile"/> of <paramref name="seconds"/>, in milliseconds ("-" for none).</summary>
    public static string Milliseconds(List<double> seconds, int percentile) =>
        seconds.Count == 0 ? "-" : $"{Of(seconds, percentile) * 1e3:F0}ms";
}
