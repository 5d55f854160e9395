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
}
