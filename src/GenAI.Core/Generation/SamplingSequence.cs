using System.Threading.Channels;
using GenAI.Core.Generation.Constraints;
using GenAI.Core.Tokenization;
using static TorchSharp.torch;

namespace GenAI.Core.Generation;

/// <summary>A greedy or sampled request: one row, one output sequence, streamed token by token.</summary>
internal sealed class SamplingSequence : ActiveRequest
{
    private readonly List<int> _sequence;
    private readonly Dictionary<int, int> _outputCounts = [];
    private readonly StreamingDetokenizer _detokenizer;
    private readonly StopStringMatcher _stops;
    private readonly ConstrainedOutput? _constraint;
    private int _constrainedTokens;
    private long _constraintTicks;

    public SamplingSequence(GenerationRequest request, TextTokenizer tokenizer, IReadOnlyList<int> eosTokenIds, Device device,
        ChannelWriter<GenerationEvent> events, CancellationToken cancellation)
        : base(request, tokenizer, eosTokenIds, device, events, cancellation)
    {
        _sequence = [.. request.PromptTokens];
        _detokenizer = tokenizer.CreateStreamingDetokenizer();
        _stops = new StopStringMatcher(Parameters.Stop);
        if (Parameters.Constraint is { } constraint) _constraint = new ConstrainedOutput(constraint, tokenizer, EndTokens);
    }

    public override ConstraintWork ConstraintWork =>
        _constraint is null ? default : new ConstraintWork(_constrainedTokens, TimeSpan.FromTicks(_constraintTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency),
            _constraint.MaskTime, _constraint.MasksComputed);

    public override int RowCount => 1;

    public override IReadOnlyList<int>? Sequence => _sequence;

    public override IEnumerable<long> NextInputs() => [_sequence[^1]];

    public override int[]? Advance(Tensor logits, long[]? argmax, bool afterPrefill)
    {
        int token;
        TokenLogProb? logProb = null;
        var constrained = _constraint?.Rule;
        int? batchArgmax = UsesBatchArgmax && argmax is not null ? (int)argmax[FirstRow] : null;
        // A constrained greedy row takes the batch's argmax when its grammar allows it: then it is the masked argmax too.
        long started = constrained is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
        long modelTicks = 0; // the sampler's own work inside a constrained choice, which is not the constraint's
        if (batchArgmax is int candidate && (constrained is null || constrained.IsAllowed(candidate)))
        {
            token = candidate;
        }
        else
        {
            using var scope = NewDisposeScope();
            var row = logits[0];
            var penalized = Pipeline.ApplyPenalties(row, _sequence, _outputCounts, GeneratedTokens, endRequired: constrained?.OnlyEnd == true);
            if (constrained is null)
            {
                token = Pipeline.Choose(penalized);
            }
            else if (!ChooseConstrained(constrained, row, batchArgmax, ref penalized, out token, ref modelTicks))
            {
                return Fail("the model's vocabulary has no token that continues the constrained output");
            }
            logProb = Pipeline.LogProbs(penalized, token);
        }
        if (_constraint?.Observe(token) == false) return Fail($"token {token} was chosen but the constraint does not allow it");
        if (constrained is not null)
        {
            _constrainedTokens++;
            _constraintTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started - modelTicks;
        }

        _sequence.Add(token);
        _outputCounts[token] = _outputCounts.GetValueOrDefault(token) + 1;
        GeneratedTokens++;

        if (EndTokens.Contains(token))
        {
            Finish(token, logProb, _stops.Append(_detokenizer.Flush()) + _stops.Flush(), FinishReason.Stop);
            return null;
        }

        string piece = Parameters.SpecialTokenText.TryGetValue(token, out string? marker) ? _detokenizer.Flush() + marker : _detokenizer.Push(token);
        string text = _stops.Append(piece);
        if (_stops.Stopped)
        {
            Finish(token, logProb, text, FinishReason.Stop);
        }
        else if (_constraint is { MustEnd: true } && EndTokens.Count == 0)
        {
            // The constraint is complete and nothing may follow it (ignore_eos without stop token ids): the output ends here.
            Finish(token, logProb, text + _stops.Append(_detokenizer.Flush()) + _stops.Flush(), FinishReason.Stop);
        }
        else if (GeneratedTokens >= Parameters.MaxTokens)
        {
            Finish(token, logProb, text + _stops.Append(_detokenizer.Flush()) + _stops.Flush(), FinishReason.Length);
        }
        else
        {
            Emit(new GenerationEvent { TokenId = token, Text = text, LogProb = logProb });
        }
        return null;
    }

    /// <summary>
    /// The constrained choice: a greedy pick is checked alone first (<paramref name="refusedArgmax"/> is the batch's
    /// argmax when the grammar already refused it), and the whole mask is built only when the grammar refuses it; the
    /// row is then masked to the allowed tokens (<see cref="LogitsPipeline.ApplyMask"/>, which also gives the greedy
    /// token) and a sampled request samples from it. False when no token is allowed.
    /// </summary>
    private bool ChooseConstrained(ITokenRule state, Tensor row, int? refusedArgmax, ref Tensor penalized, out int token, ref long samplerTicks)
    {
        bool greedy = Parameters.IsGreedy;
        long start;
        if (greedy && Parameters.LogProbs is null && refusedArgmax is null)
        {
            start = System.Diagnostics.Stopwatch.GetTimestamp();
            token = Pipeline.Choose(penalized);
            samplerTicks += System.Diagnostics.Stopwatch.GetTimestamp() - start;
            if (state.IsAllowed(token)) return true;
        }
        var mask = state.AllowedTokens();
        token = -1;
        if (mask.IsEmpty) return false;
        penalized = LogitsPipeline.ApplyMask(penalized, row, mask, out int best);
        start = System.Diagnostics.Stopwatch.GetTimestamp();
        token = greedy ? best : Pipeline.Choose(penalized);
        samplerTicks += System.Diagnostics.Stopwatch.GetTimestamp() - start;
        return true;
    }

    /// <summary>Ends this request alone with an error (the rest of the batch goes on).</summary>
    private int[]? Fail(string message)
    {
        IsFinished = true;
        Complete(new GenerationFailedException(message));
        return null;
    }

    private void Finish(int token, TokenLogProb? logProb, string text, FinishReason reason)
    {
        IsFinished = true;
        Emit(new GenerationEvent { TokenId = token, Text = text, LogProb = logProb, Finish = reason, CompletionTokens = GeneratedTokens });
    }
}
