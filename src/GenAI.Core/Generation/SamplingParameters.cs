using GenAI.Core.Generation.Constraints;

namespace GenAI.Core.Generation;

/// <summary>
/// How one request decodes, with Hugging Face <c>generate</c> semantics and vLLM's names. Every field has a
/// documented range; <see cref="Validate"/> checks them all before any work is queued.
/// </summary>
public sealed record SamplingParameters
{
    /// <summary>Most tokens to generate (<c>max_tokens</c>), at least 1.</summary>
    public int MaxTokens { get; init; } = 16;

    /// <summary>Fewest tokens before EOS or a stop token may end the sequence (<c>min_tokens</c>), 0..max_tokens.</summary>
    public int MinTokens { get; init; }

    /// <summary><c>temperature</c>, 0..100: 0 is greedy; otherwise logits are divided by it before sampling.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary><c>top_p</c>, (0, 1]: sample from the smallest set of tokens whose probability reaches it (the crossing token is kept).</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary><c>top_k</c>: 0 or -1 disables; otherwise at least 1, keeps the k most likely tokens (ties at the k-th kept).</summary>
    public int TopK { get; init; }

    /// <summary><c>min_p</c>, [0, 1]: drops tokens less likely than min_p × the most likely token's probability.</summary>
    public double MinP { get; init; }

    /// <summary><c>repetition_penalty</c>, (0, 100]: logits of tokens in the prompt or output are divided by it when positive, multiplied when negative.</summary>
    public double RepetitionPenalty { get; init; } = 1.0;

    /// <summary><c>presence_penalty</c>, [-2, 2]: subtracted once from each token already generated.</summary>
    public double PresencePenalty { get; init; }

    /// <summary><c>frequency_penalty</c>, [-2, 2]: subtracted per occurrence of each token already generated.</summary>
    public double FrequencyPenalty { get; init; }

    /// <summary><c>no_repeat_ngram_size</c>, 0 disables: no n-gram of this size occurs twice in prompt + output.</summary>
    public int NoRepeatNgramSize { get; init; }

    /// <summary><c>logit_bias</c>: token id → bias in [-100, 100] added to its logit.</summary>
    public IReadOnlyDictionary<int, double> LogitBias { get; init; } = new Dictionary<int, double>();

    /// <summary><c>seed</c>: the request's own random stream, so the same request samples the same tokens, alone or batched.</summary>
    public long? Seed { get; init; }

    /// <summary><c>stop</c>: strings that end the output when generated (not returned); at most 16, each 1..1000 characters.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary><c>stop_token_ids</c>: tokens that end the output (the token is not returned as text).</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary><c>ignore_eos</c>: keep generating past EOS.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary><c>logprobs</c>: 0..20 alternatives per position (null: no log-probs at all).</summary>
    public int? LogProbs { get; init; }

    /// <summary><c>num_beams</c>: 1 is no beam search; more runs beam search with that many beams (rows of the batch).</summary>
    public int NumBeams { get; init; } = 1;

    /// <summary><c>length_penalty</c>, [-10, 10]: beam scores are sum log-prob / new-tokens^length_penalty.</summary>
    public double LengthPenalty { get; init; } = 1.0;

    /// <summary><c>early_stopping</c> of beam search.</summary>
    public EarlyStopping EarlyStopping { get; init; } = EarlyStopping.Heuristic;

    /// <summary>Beam search: how many of the best hypotheses to return, 1..num_beams.</summary>
    public int NumReturnSequences { get; init; } = 1;

    /// <summary>
    /// Constrained decoding (<c>response_format</c>, tool calls): the tokens that cannot continue a valid output are
    /// masked before each token is chosen, so the output is a JSON value of the constraint's grammar by construction
    /// (unless max_tokens or a stop string ends it first: then it is a prefix of one). Null: unconstrained.
    /// </summary>
    public OutputConstraint? Constraint { get; init; }

    /// <summary>
    /// Special tokens written into the output text as these strings (vLLM's <c>skip_special_tokens: false</c>, for the
    /// few a tool-call parser reads: Llama's <c>&lt;|python_tag|&gt;</c>, Mistral's <c>[TOOL_CALLS]</c>); other special
    /// tokens bring no text, as always.
    /// </summary>
    public IReadOnlyDictionary<int, string> SpecialTokenText { get; init; } = new Dictionary<int, string>();

    /// <summary>Most alternatives <see cref="LogProbs"/> may ask for.</summary>
    public const int MaxLogProbs = 20;

    /// <summary>Most stop strings.</summary>
    public const int MaxStopStrings = 16;

    /// <summary>True when tokens are picked by argmax (temperature 0 or beam search).</summary>
    public bool IsGreedy => Temperature == 0 || NumBeams > 1;

    /// <summary>
    /// Checks every field's range against the model (<paramref name="vocabSize"/>, <paramref name="contextLength"/>),
    /// the prompt, and the engine's <paramref name="maxRows"/>; throws <see cref="InvalidGenerationRequestException"/>.
    /// </summary>
    public void Validate(int vocabSize, int contextLength, int promptTokens, int maxRows)
    {
        if (promptTokens < 1) throw new InvalidGenerationRequestException("prompt", "the prompt must have at least one token");
        if (promptTokens >= contextLength)
        {
            throw new InvalidGenerationRequestException("prompt", $"the prompt has {promptTokens} tokens; the context this model is served with is {contextLength} tokens (the model's context, or the server's MaxSequenceLength if smaller), which leaves no room to generate");
        }
        if (MaxTokens < 1) throw new InvalidGenerationRequestException("max_tokens", $"max_tokens must be at least 1, not {MaxTokens}");
        if (promptTokens + MaxTokens > contextLength)
        {
            throw new InvalidGenerationRequestException("max_tokens",
                $"prompt ({promptTokens} tokens) + max_tokens ({MaxTokens}) exceeds the context of {contextLength} tokens this model is served with (the model's context, or the server's MaxSequenceLength if smaller); at most {contextLength - promptTokens} new tokens fit");
        }
        if (MinTokens < 0 || MinTokens > MaxTokens) throw new InvalidGenerationRequestException("min_tokens", $"min_tokens must be between 0 and max_tokens ({MaxTokens}), not {MinTokens}");
        Range("temperature", Temperature, 0, 100);
        if (!(TopP > 0 && TopP <= 1)) throw new InvalidGenerationRequestException("top_p", $"top_p must be in (0, 1], not {TopP}");
        if (TopK < -1) throw new InvalidGenerationRequestException("top_k", $"top_k must be -1 or 0 (disabled) or at least 1, not {TopK}");
        Range("min_p", MinP, 0, 1);
        if (!(RepetitionPenalty > 0 && RepetitionPenalty <= 100)) throw new InvalidGenerationRequestException("repetition_penalty", $"repetition_penalty must be in (0, 100], not {RepetitionPenalty}");
        Range("presence_penalty", PresencePenalty, -2, 2);
        Range("frequency_penalty", FrequencyPenalty, -2, 2);
        if (NoRepeatNgramSize < 0) throw new InvalidGenerationRequestException("no_repeat_ngram_size", $"no_repeat_ngram_size must be 0 or more, not {NoRepeatNgramSize}");
        foreach (var (token, bias) in LogitBias)
        {
            if (token < 0 || token >= vocabSize) throw new InvalidGenerationRequestException("logit_bias", $"logit_bias names token {token}, outside this model's vocabulary [0, {vocabSize})");
            if (!double.IsFinite(bias) || bias < -100 || bias > 100) throw new InvalidGenerationRequestException("logit_bias", $"logit_bias for token {token} must be in [-100, 100], not {bias}");
        }
        if (Stop.Count > MaxStopStrings) throw new InvalidGenerationRequestException("stop", $"at most {MaxStopStrings} stop strings, not {Stop.Count}");
        if (Stop.Any(s => string.IsNullOrEmpty(s) || s.Length > 1000)) throw new InvalidGenerationRequestException("stop", "stop strings must be 1 to 1000 characters");
        foreach (int token in StopTokenIds)
        {
            if (token < 0 || token >= vocabSize) throw new InvalidGenerationRequestException("stop_token_ids", $"stop_token_ids names token {token}, outside this model's vocabulary [0, {vocabSize})");
        }
        foreach (int token in SpecialTokenText.Keys)
        {
            if (token < 0 || token >= vocabSize) throw new InvalidGenerationRequestException("special_token_text", $"special token {token} is outside this model's vocabulary [0, {vocabSize})");
        }
        if (LogProbs is < 0 or > MaxLogProbs) throw new InvalidGenerationRequestException("logprobs", $"logprobs must be between 0 and {MaxLogProbs}, not {LogProbs}");
        if (NumBeams < 1) throw new InvalidGenerationRequestException("num_beams", $"num_beams must be at least 1, not {NumBeams}");
        if (NumBeams > vocabSize) throw new InvalidGenerationRequestException("num_beams", $"num_beams {NumBeams} exceeds the vocabulary size {vocabSize}");
        if (NumBeams > 1 && Stop.Count > 0) throw new InvalidGenerationRequestException("stop", "stop strings are not supported with beam search; use stop_token_ids");
        if (NumBeams > 1 && Constraint is not null)
        {
            throw new InvalidGenerationRequestException(Constraint.Parameter, $"{Constraint.Parameter} (constrained decoding) is not supported with beam search; sample or decode greedily");
        }
        if (NumBeams > maxRows) throw new InvalidGenerationRequestException("num_beams", $"num_beams {NumBeams} exceeds the server's limit of {maxRows} concurrent sequences");
        Range("length_penalty", LengthPenalty, -10, 10);
        if (NumReturnSequences < 1 || NumReturnSequences > NumBeams)
        {
            throw new InvalidGenerationRequestException("n", $"n must be between 1 and num_beams ({NumBeams}) for beam search, not {NumReturnSequences}");
        }
        if (NumBeams > 1 && Temperature != 0 && Temperature != 1)
        {
            // Beam search is deterministic here (no beam sampling); a temperature other than the default is a mistake.
            throw new InvalidGenerationRequestException("temperature", "beam search is deterministic: leave temperature at 0 or 1 when num_beams > 1");
        }
    }

    private static void Range(string name, double value, double min, double max)
    {
        if (!double.IsFinite(value) || value < min || value > max)
        {
            throw new InvalidGenerationRequestException(name, $"{name} must be in [{min}, {max}], not {value}");
        }
    }
}
