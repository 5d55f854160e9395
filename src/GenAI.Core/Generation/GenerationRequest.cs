namespace GenAI.Core.Generation;

/// <summary>What the engine runs: prompt token ids and how to decode them.</summary>
public sealed record GenerationRequest
{
    /// <summary>The prompt's token ids.</summary>
    public required IReadOnlyList<int> PromptTokens { get; init; }

    /// <summary>Sampling, stopping and beam search settings.</summary>
    public SamplingParameters Parameters { get; init; } = new();
}
