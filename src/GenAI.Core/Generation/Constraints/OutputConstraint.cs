using GenAI.Core.Tokenization;

namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// A constraint on what a request generates (<c>SamplingParameters.Constraint</c>). Without triggers the
/// whole output is the one JSON value (<c>response_format</c>, <c>tool_choice: "required"</c>): it starts at the first
/// token and, once the value is complete, only EOS or a stop token id may follow. With
/// <see cref="TriggerTokenIds"/> the output is free text until the model writes one of them (a tool-call opener such
/// as Qwen's <c>&lt;tool_call&gt;</c>, Llama's <c>&lt;|python_tag|&gt;</c>, Mistral's <c>[TOOL_CALLS]</c>); the tokens
/// after it are constrained to the value, and once the value is complete the output is free again (the closing tag, a
/// second call, EOS).
/// </summary>
/// <param name="Json">The compiled grammar.</param>
public sealed record OutputConstraint(JsonConstraint Json)
{
    /// <summary>The request field the constraint came from, named in errors (default <c>response_format</c>).</summary>
    public string Parameter { get; init; } = "response_format";

    /// <summary>Token ids after which the value starts; empty: the value is the whole output.</summary>
    public IReadOnlyList<int> TriggerTokenIds { get; init; } = [];

    /// <summary>Whitespace bytes allowed before the value (e.g. 1 for the newline Qwen writes after <c>&lt;tool_call&gt;</c>).</summary>
    public int LeadingWhitespace { get; init; }

    /// <summary>True when the value starts after a trigger token rather than at the first token.</summary>
    public bool IsTriggered => TriggerTokenIds.Count > 0;
}

/// <summary>An <see cref="OutputConstraint"/> at work on one output: free or constrained, and the state while constrained.</summary>
internal sealed class ConstrainedOutput
{
    private readonly OutputConstraint _constraint;
    private readonly TextTokenizer _tokenizer;
    private readonly IReadOnlyCollection<int> _endTokens;
    private TimeSpan _finishedMaskTime;
    private int _finishedMasksComputed;

    public ConstrainedOutput(OutputConstraint constraint, TextTokenizer tokenizer, IReadOnlyCollection<int> endTokens)
    {
        _constraint = constraint;
        _tokenizer = tokenizer;
        _endTokens = endTokens;
        if (!constraint.IsTriggered) State = constraint.Json.Start(tokenizer, endTokens, constraint.LeadingWhitespace);
    }

    /// <summary>The value being written, or null while the output is free (triggered constraints).</summary>
    public JsonConstraintState? State { get; private set; }

    /// <summary>True when the whole output is the value.</summary>
    public bool IsWholeOutput => !_constraint.IsTriggered;

    /// <summary>Time spent on masks for this output (computed or found in the cache).</summary>
    public TimeSpan MaskTime => _finishedMaskTime + (State?.MaskTime ?? TimeSpan.Zero);

    /// <summary>Masks this output had to compute (not found in the tokenizer's cache).</summary>
    public int MasksComputed => _finishedMasksComputed + (State?.MasksComputed ?? 0);

    /// <summary>
    /// Moves past the chosen token: advances the value, or starts it after a trigger, or ends it (triggered) once
    /// complete. False when the value does not allow the token (which masking prevents; the caller fails the output).
    /// </summary>
    public bool Observe(int token)
    {
        if (State is { } state)
        {
            if (!state.TryAdvance(token)) return false;
            if (_constraint.IsTriggered && state.IsComplete)
            {
                _finishedMaskTime += state.MaskTime;
                _finishedMasksComputed += state.MasksComputed;
                State = null;
            }
        }
        else if (_constraint.TriggerTokenIds.Contains(token))
        {
            // Inside a triggered value EOS is not allowed: the call must be complete before the output may end.
            State = _constraint.Json.Start(_tokenizer, [], _constraint.LeadingWhitespace);
        }
        return true;
    }
}
