namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// A constraint on what a request generates (<c>SamplingParameters.Constraint</c>): a JSON value, possibly wrapped in
/// fixed tokens, either as the whole answer or started by the model mid-output.
/// <list type="bullet">
/// <item><b>Whole answer</b> (no triggers: <c>response_format</c>, <c>tool_choice: "required"</c>): the answer is
/// <see cref="Prefix"/>, the value, <see cref="Suffix"/> — repeated after <see cref="Separator"/> while the model does
/// not end, when a separator is given — then only EOS or a stop token id.</item>
/// <item><b>Triggered</b> (<see cref="TriggerTokenIds"/> or <see cref="ValueMayOpenAnswer"/>: tool calls the model
/// starts itself): free text until the model writes a trigger (a tool-call opener such as Qwen's
/// <c>&lt;tool_call&gt;</c>, Llama's <c>&lt;|python_tag|&gt;</c>, Mistral's <c>[TOOL_CALLS]</c>) or opens the answer with
/// the value's first byte; then <see cref="AfterTrigger"/>, the value and <see cref="Suffix"/>; then free text again
/// (<see cref="FreeAfterValue"/>) or only the end.</item>
/// </list>
/// With <see cref="Thinking"/> the answer begins after the model's think block: the block itself is free text.
/// </summary>
/// <param name="Json">The compiled grammar of the value.</param>
public sealed record OutputConstraint(JsonConstraint Json)
{
    /// <summary>The request field the constraint came from, named in errors (default <c>response_format</c>).</summary>
    public string Parameter { get; init; } = "response_format";

    /// <summary>Token ids after which the value starts; empty (and no <see cref="ValueMayOpenAnswer"/>): the value is the whole answer.</summary>
    public IReadOnlyList<int> TriggerTokenIds { get; init; } = [];

    /// <summary>
    /// Triggered: the value may also open the answer without a trigger token (Llama 3.x's bare JSON call): while the
    /// answer is only whitespace, tokens that begin the value are constrained to a valid start, and any other token
    /// makes the answer free text.
    /// </summary>
    public bool ValueMayOpenAnswer { get; init; }

    /// <summary>Whitespace bytes allowed before the value (e.g. 1 for the space Mistral writes after <c>[TOOL_CALLS]</c>).</summary>
    public int LeadingWhitespace { get; init; }

    /// <summary>Whole answer: tokens written before each value (Qwen's <c>&lt;tool_call&gt;</c> and newline, Mistral's <c>[TOOL_CALLS]</c>).</summary>
    public IReadOnlyList<int> Prefix { get; init; } = [];

    /// <summary>Triggered: tokens written after a trigger token, before the value (Qwen's newline after <c>&lt;tool_call&gt;</c>).</summary>
    public IReadOnlyList<int> AfterTrigger { get; init; } = [];

    /// <summary>Tokens written after each value (Qwen's newline and <c>&lt;/tool_call&gt;</c>).</summary>
    public IReadOnlyList<int> Suffix { get; init; } = [];

    /// <summary>
    /// Whole answer: null for one value; otherwise, after each value's suffix the model either ends or writes these
    /// tokens and <see cref="Prefix"/> again for another value (parallel tool calls in Qwen's syntax: a newline).
    /// </summary>
    public IReadOnlyList<int>? Separator { get; init; }

    /// <summary>Triggered: after the value's suffix the output is free text again (true) or may only end (false).</summary>
    public bool FreeAfterValue { get; init; } = true;

    /// <summary>A reasoning model's think block, before the answer; null when the model does not think.</summary>
    public ThinkBlock? Thinking { get; init; }

    /// <summary>True when the value starts after a trigger rather than being the whole answer.</summary>
    public bool IsTriggered => TriggerTokenIds.Count > 0 || ValueMayOpenAnswer;

    /// <summary>True when the answer is only the value, with nothing around it (<c>response_format</c>): the value's own end allows EOS.</summary>
    internal bool IsPlainValue => !IsTriggered && Prefix.Count == 0 && Suffix.Count == 0 && Separator is null;

    /// <summary>Checks that the pieces fit together; throws <see cref="ArgumentException"/>.</summary>
    public void Validate()
    {
        if (Separator is not null && Separator.Count + Prefix.Count == 0)
        {
            throw new ArgumentException("a repeated value needs a separator or a prefix to tell another value from the end");
        }
        if (IsTriggered && (Prefix.Count > 0 || Separator is not null)) throw new ArgumentException("Prefix and Separator are for whole-answer constraints");
        if (!IsTriggered && AfterTrigger.Count > 0) throw new ArgumentException("AfterTrigger is for triggered constraints");
        if (ValueMayOpenAnswer && Json.FirstByte is null) throw new ArgumentException("ValueMayOpenAnswer needs a value that always begins with the same byte");
        ArgumentOutOfRangeException.ThrowIfNegative(LeadingWhitespace);
    }
}

/// <summary>
/// A think block's tokens (Qwen3's and DeepSeek-R1's <c>&lt;think&gt;</c> … <c>&lt;/think&gt;</c>): the model thinks
/// freely inside it; the constraint applies to the answer after it.
/// </summary>
/// <param name="Open">The token that opens the block; the model may write it as the output's first token.</param>
/// <param name="Close">The token that closes it.</param>
public sealed record ThinkBlock(int Open, int Close)
{
    /// <summary>True when the prompt already opened the block (DeepSeek-R1's generation prompt ends with <c>&lt;think&gt;</c>): the output begins inside it.</summary>
    public bool StartsInside { get; init; }

    /// <summary>Whole answer: tokens written after the block closes, before the prefix (Qwen3's blank line).</summary>
    public IReadOnlyList<int> AfterClose { get; init; } = [];
}
