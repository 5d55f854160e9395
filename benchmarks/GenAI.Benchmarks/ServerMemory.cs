using System.Globalization;

namespace GenAI.Benchmarks;

/// <summary>
/// GenAI server's memory at one moment, against what it says it allocated (issue 12: resident memory with a model
/// loaded ≤ 1.2× the weights plus the KV cache): the process's <c>VmRSS</c> from <c>/proc/PID/status</c>, and from
/// <c>/metrics</c> the model's weight bytes, the KV cache's bytes and the prefix cache's bytes (keys and values too).
/// </summary>
internal sealed record ServerMemory(long ResidentBytes, long WeightBytes, long KvCacheBytes, long PrefixCacheBytes)
{
    /// <summary>Issue 12's bound on <see cref="Ratio"/>.</summary>
    public const double Target = 1.2;

    /// <summary>What the server allocated for the model: weights, KV cache and the prefix cache's blocks.</summary>
    public long AllocatedBytes => WeightBytes + KvCacheBytes + PrefixCacheBytes;

    /// <summary>Resident memory over <see cref="AllocatedBytes"/>.</summary>
    public double Ratio => (double)ResidentBytes / AllocatedBytes;

    /// <summary>Reads both now from the running server (all models it serves summed).</summary>
    public static ServerMemory Read(ServerProcess server)
    {
        using var http = new HttpClient { BaseAddress = server.BaseUri, Timeout = TimeSpan.FromSeconds(30) };
        string metrics = http.GetStringAsync("/metrics").Result;
        return new ServerMemory(ReadResidentBytes(server.Process.Id), Sum(metrics, "genai_model_weight_bytes"),
            Sum(metrics, "genai_kv_cache_bytes"), Sum(metrics, "genai_prefix_cache_bytes"));
    }

    /// <summary><c>VmRSS</c> of process <paramref name="pid"/> (Linux; the process's working set elsewhere).</summary>
    public static long ReadResidentBytes(int pid)
    {
        string status = $"/proc/{pid}/status";
        if (!File.Exists(status))
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.WorkingSet64;
        }
        string line = File.ReadLines(status).First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024; // kB
    }

    /// <summary>"RSS 702 MiB = 1.08× (weights 498 + KV 151 + prefix cache 0 MiB)".</summary>
    public override string ToString() =>
        $"RSS {Mib(ResidentBytes)} MiB = {Ratio:F2}× (weights {Mib(WeightBytes)} + KV {Mib(KvCacheBytes)} + prefix cache {Mib(PrefixCacheBytes)} MiB; " +
        $"target ≤ {Target:F1}×: {(Ratio <= Target ? "PASS" : "MISS")})";

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("F0", CultureInfo.InvariantCulture);

    /// <summary>The sum of a gauge's samples over its labels, from Prometheus's text format.</summary>
    private static long Sum(string metrics, string name) => (long)metrics.Split('\n')
        .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length > name.Length && (l[name.Length] == '{' || l[name.Length] == ' ')))
        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
}
