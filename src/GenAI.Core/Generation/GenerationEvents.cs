namespace GenAI.Core.Generation;

/// <summary>Why a sequence ended.</summary>
public enum FinishReason
{
    /// <summary>EOS, a stop string or a stop token.</summary>
    Stop,
    /// <summary><c>max_tokens</c> reached.</summary>
    Length,
}

/// <summary>A token's log-probability and the most likely alternatives at its position.</summary>
/// <param name="TokenId">The chosen token.</param>
/// <param name="LogProb">Its log-probability.</param>
/// <param name="Top">The most likely tokens at the position with their log-probabilities, most likely first.</param>
public sealed record TokenLogProb(int TokenId, float LogProb, IReadOnlyList<(int TokenId, float LogProb)> Top);

/// <summary>
/// One step of a request's output stream. <see cref="Index"/> is the sequence (0 unless beam search returns
/// several). A token event may carry empty <see cref="Text"/> when its characters are not final yet (a multi-byte
/// character, or a possible stop-string prefix); the last event of a sequence has <see cref="Finish"/>.
/// </summary>
public sealed record GenerationEvent
{
    /// <summary>The sequence this event belongs to.</summary>
    public int Index { get; init; }

    /// <summary>The generated token, when the event carries one.</summary>
    public int? TokenId { get; init; }

    /// <summary>Text that became final with this event.</summary>
    public string Text { get; init; } = "";

    /// <summary>Log-probabilities, when asked for.</summary>
    public TokenLogProb? LogProb { get; init; }

    /// <summary>Set on the sequence's last event.</summary>
    public FinishReason? Finish { get; init; }

    /// <summary>Beam search: the sequence's score (sum log-prob / new-tokens^length_penalty), on its last event.</summary>
    public double? Score { get; init; }

    /// <summary>Tokens this sequence generated, on its last event.</summary>
    public int? CompletionTokens { get; init; }
}

/// <summary>
/// What constrained decoding cost: tokens chosen under a constraint, the time the constraint took on the engine's
/// thread for them (all of it: checking a greedy pick, building or looking up masks, masking the row, stepping the
/// automaton), the part of it spent on masks, and how many masks had to be computed (not found in the cache).
/// </summary>
/// <param name="Tokens">Tokens chosen while a constraint was active.</param>
/// <param name="Time">The constraint's time for them.</param>
/// <param name="MaskTime">The part spent building or looking up masks.</param>
/// <param name="MasksComputed">Masks not found in the cache.</param>
public readonly record struct ConstraintWork(long Tokens, TimeSpan Time, TimeSpan MaskTime, long MasksComputed)
{
    /// <summary>The sum of two.</summary>
    public static ConstraintWork operator +(ConstraintWork a, ConstraintWork b) =>
        new(a.Tokens + b.Tokens, a.Time + b.Time, a.MaskTime + b.MaskTime, a.MasksComputed + b.MasksComputed);
}

/// <summary>The engine's queue is full; try again later (HTTP 429).</summary>
public sealed class EngineBusyException(string message) : Exception(message);

/// <summary>A request failed inside the engine after it was accepted.</summary>
public sealed class GenerationFailedException(string message, Exception? inner = null) : Exception(message, inner);
