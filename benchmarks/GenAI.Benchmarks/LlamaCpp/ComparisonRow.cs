namespace GenAI.Benchmarks.LlamaCpp;

/// <summary>One engine at one precision, and what the comparison measured of it (null where it has no such figure).</summary>
internal sealed class ComparisonRow(string engine, string precision)
{
    /// <summary>"GenAI" or "llama.cpp".</summary>
    public string Engine { get; } = engine;

    /// <summary>"F32", "BF16", "Q8_0", ...</summary>
    public string Precision { get; } = precision;

    public string Name => $"{Engine} {Precision}";

    /// <summary>Prefill of a 128-token prompt, raw (GenAI's model benchmark; llama-bench pp128).</summary>
    public Figure? PrefillMilliseconds { get; set; }

    /// <summary>Batch-1 decode, raw, from an empty cache (GenAI's model benchmark; llama-bench tg128).</summary>
    public Figure? RawBatch1 { get; set; }

    /// <summary>Eight sequences decoded together, raw, from an empty cache (GenAI only: llama-bench has no such test).</summary>
    public Figure? RawBatch8 { get; set; }

    /// <summary>Batch-1 streaming decode through the server's HTTP endpoint.</summary>
    public Figure? HttpBatch1 { get; set; }

    /// <summary>Eight concurrent streams' aggregate tokens/s through HTTP.</summary>
    public Figure? HttpConcurrent { get; set; }

    /// <summary>TTFT p50 of those eight streams.</summary>
    public Figure? HttpConcurrentTtft { get; set; }

    /// <summary>The server's resident memory after the concurrent streams.</summary>
    public long? ServerResidentBytes { get; set; }

    /// <summary>GenAI's server right after it loaded the model (the worse of the rounds).</summary>
    public ServerMemory? MemoryAfterLoad { get; set; }

    /// <summary>GenAI's server after the streams (the worse of the rounds).</summary>
    public ServerMemory? MemoryAfterRun { get; set; }

    /// <summary>How its greedy tokens agree with the reference (GenAI F32 for llama.cpp's rows).</summary>
    public string? Greedy { get; set; }
}
