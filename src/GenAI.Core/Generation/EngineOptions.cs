namespace GenAI.Core.Generation;

/// <summary>Limits of one model's engine.</summary>
public sealed record EngineOptions
{
    /// <summary>Rows of the batch (sequences decoded together; a beam search takes num_beams). Sizes the KV cache.</summary>
    public int MaxBatchRows { get; init; } = 16;

    /// <summary>Requests waiting for a row before new ones are refused (<see cref="EngineBusyException"/>).</summary>
    public int MaxQueuedRequests { get; init; } = 64;

    /// <summary>Positions per row (prompt + output), at most the model's context length; null uses the model's context length.</summary>
    public int? MaxSequenceLength { get; init; }

    /// <summary>
    /// Most prompt tokens (rows × padded chunk) one prefill pass takes; prompts longer than this are prefilled in
    /// chunks over several steps. While streams are generating, passes are smaller still (see <see cref="PrefillLatencyFactor"/>).
    /// </summary>
    public int MaxPrefillTokensPerStep { get; init; } = 512;

    /// <summary>
    /// While streams are generating, a step (prefill pass + decode pass) may take at most this many times a plain decode
    /// step, so a running stream's next token is never held up for long by new prompts.
    /// </summary>
    public double PrefillLatencyFactor { get; init; } = 4;

    /// <summary>
    /// End-of-sequence ids besides the model's (config.json) and the tokenizer's, e.g. generation_config.json's; every
    /// one ends generation unless a request ignores EOS.
    /// </summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Bytes of keys and values the automatic prefix cache may keep (0 turns it off).</summary>
    public long PrefixCacheBytes { get; init; } = 256L << 20;
}
