using System.Globalization;

namespace GenAI.Benchmarks.LlamaCpp;

/// <summary>
/// Prints the comparison as Markdown (so it can go into the README as printed): every figure of every row as
/// "best (min–max)" of its samples, then issue 12's targets as ratios of best figures, each marked PASS or MISS, and GenAI server's resident memory against the weights and KV cache it allocated.
/// </summary>
internal static class ComparisonTable
{
    /// <summary>A target of issue 12: GenAI's figure over llama.cpp's, at least <paramref name="AtLeast"/>.</summary>
    public sealed record Target(string What, string GenAIRow, string LlamaRow, Func<ComparisonRow, Figure?> Select, double AtLeast);

    /// <summary>Issue 12's ratios: batch-1 decode raw and through HTTP at each precision pairing, and 8 concurrent streams ≥ 1.2×.</summary>
    public static IReadOnlyList<Target> Targets { get; } =
    [
        .. Pairings().Select(p => new Target("batch-1 decode, raw", p.GenAI, p.Llama, r => r.RawBatch1, 1.0)),
        .. Pairings().Select(p => new Target("batch-1 decode, HTTP streaming", p.GenAI, p.Llama, r => r.HttpBatch1, 1.0)),
        .. Pairings().Select(p => new Target("8 streams aggregate, HTTP", p.GenAI, p.Llama, r => r.HttpConcurrent, 1.2)),
    ];

    public static void Print(TextWriter output, IReadOnlyList<ComparisonRow> rows)
    {
        output.WriteLine("| engine, weights | prefill 128 ms (raw) | 1 stream tok/s raw | 1 stream tok/s HTTP | 8 streams tok/s raw | 8 streams tok/s HTTP | TTFT p50 at 8, ms | server RSS MiB | greedy tokens vs GenAI F32 |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            output.WriteLine($"| {row.Name} | {Cell(row.PrefillMilliseconds, "F0")} | {Cell(row.RawBatch1)} | {Cell(row.HttpBatch1)} | {Cell(row.RawBatch8)} | " +
                             $"{Cell(row.HttpConcurrent)} | {Cell(row.HttpConcurrentTtft, "F0")} | " +
                             $"{(row.ServerResidentBytes is long rss ? Mib(rss) : "—")} | {row.Greedy ?? "—"} |");
        }
        output.WriteLine();
        output.WriteLine("| target (issue 12) | GenAI | llama.cpp | GenAI figure | llama.cpp figure | ratio | target | |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var target in Targets)
        {
            var genai = rows.First(r => r.Name == target.GenAIRow);
            var llama = rows.First(r => r.Name == target.LlamaRow);
            var (ours, theirs) = (target.Select(genai), target.Select(llama));
            string ratio = ours is null || theirs is null ? "—" : $"{ours.Best / theirs.Best:F2}×";
            string verdict = ours is null || theirs is null ? "not measured" : ours.Best / theirs.Best >= target.AtLeast ? "**PASS**" : "MISS";
            output.WriteLine($"| {target.What} | {target.GenAIRow} | {target.LlamaRow} | {Best(ours)} | {Best(theirs)} | {ratio} | ≥ {target.AtLeast:F1}× | {verdict} |");
        }
        output.WriteLine();
        output.WriteLine("| GenAI server memory (issue 12) | when | RSS MiB | weights MiB | KV cache MiB | prefix cache MiB | RSS / (weights + KV + prefix) | target | |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows.Where(r => r.MemoryAfterLoad is not null))
        {
            foreach (var (when, memory) in new[] { ("after load", row.MemoryAfterLoad!), ("after the streams", row.MemoryAfterRun!) })
            {
                output.WriteLine($"| {row.Name} | {when} | {Mib(memory.ResidentBytes)} | {Mib(memory.WeightBytes)} | {Mib(memory.KvCacheBytes)} | {Mib(memory.PrefixCacheBytes)} | " +
                                 $"{memory.Ratio:F2}× | ≤ {ServerMemory.Target:F1}× | {(memory.Ratio <= ServerMemory.Target ? "**PASS**" : "MISS")} |");
            }
        }
    }

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("F0", CultureInfo.InvariantCulture);

    private static string Best(Figure? figure) => figure?.Best.ToString("F1", CultureInfo.InvariantCulture) ?? "—";

    private static IEnumerable<(string GenAI, string Llama)> Pairings() =>
    [
        ("GenAI F32", "llama.cpp F32"),
        ("GenAI BF16", "llama.cpp F16"),
        ("GenAI int8", "llama.cpp Q8_0"),
    ];

    private static string Cell(Figure? figure, string number = "F1") => figure?.Format(number) ?? "—";
}
