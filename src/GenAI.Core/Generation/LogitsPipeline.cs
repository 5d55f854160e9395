using GenAI.Core.Models.Kernels;
using GenAI.Core.Generation.Constraints;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Generation;

/// <summary>
/// One request's logits pipeline in Hugging Face's order — penalties (repetition, presence/frequency,
/// no-repeat n-gram, logit bias, EOS/stop tokens before <c>min_tokens</c>), then temperature → top-k → top-p →
/// min-p — and its own random stream, so a seeded request samples the same tokens whatever else is batched.
/// Log-probs are reported on the distribution after the penalties, before temperature and truncation.
/// A constrained request (<see cref="SamplingParameters.Constraint"/>) masks the tokens its grammar does not allow
/// after the penalties and before temperature (<see cref="ApplyMask"/>): penalties and logit_bias act on the model's
/// scores as they would unconstrained, and temperature, top-k, top-p and min-p then see only allowed tokens, so they
/// pick among what may come (top-p over the allowed mass; a top-k that would keep only disallowed tokens keeps allowed
/// ones). Its log-probs are those of the masked distribution, as vLLM reports them (its grammar bitmask applies before
/// log-probs are taken): the chosen token's probability among the allowed ones, and only allowed alternatives.
/// </summary>
public sealed class LogitsPipeline : IDisposable
{
    private readonly SamplingParameters _parameters;
    private readonly int[] _endTokens;
    private readonly Generator? _generator;

    /// <summary>Creates the pipeline; <paramref name="endTokens"/> are EOS (unless ignored) and the stop token ids.</summary>
    public LogitsPipeline(SamplingParameters parameters, IEnumerable<int> endTokens, Device device)
    {
        _parameters = parameters;
        _endTokens = endTokens.Distinct().ToArray();
        if (!parameters.IsGreedy)
        {
            _generator = new Generator((ulong)(parameters.Seed ?? Random.Shared.NextInt64()), device);
        }
        HasPenalties = parameters.RepetitionPenalty != 1.0 || parameters.PresencePenalty != 0 || parameters.FrequencyPenalty != 0
                       || parameters.NoRepeatNgramSize > 0 || parameters.LogitBias.Count > 0 || (parameters.MinTokens > 0 && _endTokens.Length > 0);
    }

    /// <summary>True when any penalty processor is active.</summary>
    public bool HasPenalties { get; }

    /// <summary>True when the token is simply the argmax of the raw logits (no penalties, greedy, no log-probs).</summary>
    public bool IsPlainGreedy => _parameters.IsGreedy && !HasPenalties && _parameters.LogProbs is null;

    /// <summary>
    /// Applies the penalty processors to a row of logits given the sequence so far (<paramref name="sequence"/> is
    /// prompt + output, <paramref name="outputCounts"/> counts each output token, <paramref name="generated"/> is the output length).
    /// </summary>
    /// <remarks>
    /// <paramref name="endRequired"/>: a constrained output whose value is complete may only end, so min_tokens does
    /// not ban the end tokens then.
    /// </remarks>
    public Tensor ApplyPenalties(Tensor logits, IReadOnlyList<int> sequence, IReadOnlyDictionary<int, int> outputCounts, int generated, bool endRequired = false)
    {
        if (!HasPenalties) return logits;
        var p = _parameters;
        var result = LogitsProcessors.RepetitionPenalty(logits, sequence, p.RepetitionPenalty);
        result = LogitsProcessors.PresenceFrequencyPenalty(result, outputCounts, p.PresencePenalty, p.FrequencyPenalty);
        result = LogitsProcessors.NoRepeatNgram(result, sequence, p.NoRepeatNgramSize);
        result = LogitsProcessors.LogitBias(result, p.LogitBias);
        if (generated < p.MinTokens && !endRequired) result = LogitsProcessors.Ban(result, _endTokens);
        return result;
    }

    /// <summary>
    /// Sets every token outside <paramref name="mask"/> to -infinity in a row of logits (ids beyond the mask included),
    /// in place — the row is this request's own (its row of the step's logits, or the penalties' new tensor) — in one
    /// pass of plain .NET over the floats, which also finds the masked argmax (<paramref name="best"/>): no tensor op is
    /// added to the step. When the penalties left no allowed token a finite score (a no-repeat n-gram ban on the one
    /// token the grammar allows), the model's own scores (<paramref name="unpenalized"/>) of the allowed tokens are used,
    /// so a constrained output never picks a disallowed token.
    /// </summary>
    public static Tensor ApplyMask(Tensor penalized, Tensor unpenalized, TokenMask mask, out int best)
    {
        var masked = MaskInPlace(penalized, mask, out best);
        if (best >= 0) return masked;
        if (!ReferenceEquals(penalized, unpenalized))
        {
            masked = MaskInPlace(unpenalized, mask, out best);
            if (best >= 0) return masked;
        }
        // Even the model scores every allowed token -inf: any allowed token, the first.
        best = mask.Ids().First();
        masked.fill_(float.NegativeInfinity);
        masked[best] = 0f;
        return masked;
    }

    private static Tensor MaskInPlace(Tensor logits, TokenMask mask, out int best)
    {
        var row = logits.dtype == ScalarType.Float32 && logits.is_contiguous() && logits.device_type == DeviceType.CPU
            ? logits
            : logits.to(ScalarType.Float32, CPU).contiguous();
        // A contiguous CPU tensor's bytes are its own memory (a view's from its first element).
        best = mask.ApplyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(row.bytes));
        return row;
    }

    /// <summary>Picks the next token from penalized logits: argmax when greedy, else warp and sample.</summary>
    public int Choose(Tensor penalized)
    {
        if (_parameters.IsGreedy)
        {
            using var row = penalized.reshape(1, -1);
            return (int)RowArgmax.Compute(row)[0];
        }
        using var scope = NewDisposeScope();
        var warped = LogitsProcessors.Temperature(penalized, _parameters.Temperature);
        warped = LogitsProcessors.TopK(warped, _parameters.TopK);
        warped = LogitsProcessors.TopP(warped, _parameters.TopP);
        warped = LogitsProcessors.MinP(warped, _parameters.MinP);
        return (int)warped.softmax(0).multinomial(1, false, _generator).item<long>();
    }

    /// <summary>The chosen token's log-prob and the top alternatives, if the request asked for log-probs.</summary>
    public TokenLogProb? LogProbs(Tensor penalized, int token)
    {
        if (_parameters.LogProbs is not int top) return null;
        using var scope = NewDisposeScope();
        var logprobs = penalized.log_softmax(0);
        float chosen = logprobs[token].item<float>();
        var alternatives = new List<(int, float)>();
        if (top > 0)
        {
            var (values, indices) = logprobs.topk(Math.Min(top, (int)logprobs.shape[0]));
            var v = values.data<float>().ToArray();
            var i = indices.data<long>().ToArray();
            // A masked distribution may have fewer possible tokens than asked for: impossible ones are not alternatives.
            for (int k = 0; k < v.Length; k++)
            {
                if (float.IsFinite(v[k])) alternatives.Add(((int)i[k], v[k]));
            }
        }
        return new TokenLogProb(token, chosen, alternatives);
    }

    /// <inheritdoc />
    public void Dispose() => _generator?.Dispose();
}
