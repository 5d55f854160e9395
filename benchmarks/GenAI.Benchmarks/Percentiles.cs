namespace GenAI.Benchmarks;

/// <summary>Latency percentiles as the benchmarks print them.</summary>
internal static class Percentiles
{
    /// <summary>The nearest-rank <paramref name="percentile"/> of <paramref name="seconds"/>, in milliseconds ("-" for none).</summary>
    public static string Milliseconds(List<double> seconds, int percentile)
    {
        if (seconds.Count == 0) return "-";
        var sorted = seconds.Order().ToList();
        int index = Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1);
        return $"{sorted[index] * 1e3:F0}ms";
    }
}
