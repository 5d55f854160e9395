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

    public SamplingSequence(GenerationRequest request, TextTokenizer tokenizer, IReadOnlyList<int> eosTokenIds, Device device,
        ChannelWriter<GenerationEvent> events, CancellationToken cancellation)
        : base(request, tokenizer, eosTokenIds, device, events, cancellation)
    {
        _sequence = [.. request.PromptTokens];
        _detokenizer = tokenizer.CreateStreamingDetokenizer();
        _stops = new StopStringMatcher(Parameters.Stop);
        if (Parameters.Constraint is { } constraint) _constraint = new ConstrainedOutput(constraint, tokenizer, EndTokens);
    }

    public override (int Tokens, TimeSpan MaskTime) ConstraintWork => (_constrainedTokens, _constraint?.MaskTime ?? TimeSpan.Zero);

    public override int RowCount => 1;

    public override IReadOnlyList<int>? Sequence => _sequence;

    public override IEnumerable<long> NextInputs() => [_sequence[^1]];

    public override int[]? Advance(Tensor logits, long[]? argmax, bool afterPrefill)
    {
        int token;
        TokenLogProb? logProb = null;
        var constrained = _constraint?.State;
        // A constrained greedy row takes the batch's argmax when its grammar allows it: then it is the masked argmax too.
        if (UsesBatchArgmax && argmax is not null && (constrained is null || constrained.IsAllowed((int)argmax[FirstRow])))
        {
            token = (int)argmax[FirstRow];
        }
        else
        {
            using var scope = NewDisposeScope();
            var row = logits[0];
            var penalized = Pipeline.ApplyPenalties(row, _sequence, _outputCounts, GeneratedTokens, endRequired: constrained?.IsComplete == true);
            if (constrained is null)
            {
                token = Pipeline.Choose(penalized);
            }
            else if (!ChooseConstrained(constrained, row, ref penalized, out token))
            {
                IsFinished = true;
                Complete(new GenerationFailedException("the model's vocabulary has no token that continues the constrained output"));
                return null;
            }
            logProb = Pipeline.LogProbs(penalized, token);
        }
        if (constrained is not null) _constrainedTokens++;
        _constraint?.Observe(token);

        _sequence.Add(token);
        _outputCounts[token] = _outputCounts.GetValueOrDefault(token) + 1;
        GeneratedTokens++;

        if (EndTokens.Contains(token))
        {
            Finish(token, logProb, _stops.Append(_detokenizer.Flush()) + _stops.Flush(), FinishReason.Stop);
            return null;
        }

        string text = _stops.Append(_detokenizer.Push(token));
        if (_stops.Stopped)
        {
            Finish(token, logProb, text, FinishReason.Stop);
        }
        else if (_constraint is { IsWholeOutput: true, State: { IsComplete: true } state } && state.EndTokens.Count == 0)
        {
            // The value is complete and nothing may follow it (ignore_eos without stop token ids): the output ends here.
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
    /// The constrained choice: a greedy pick is checked alone first (the whole mask is needed only when the grammar
    /// refuses it); otherwise the row is masked to the allowed tokens (<see cref="LogitsPipeline.ApplyMask"/>) and the
    /// pipeline samples from it. False when no token is allowed.
    /// </summary>
    private bool ChooseConstrained(JsonConstraintState state, Tensor row, ref Tensor penalized, out int token)
    {
        if (Parameters.IsGreedy && Parameters.LogProbs is null)
        {
            token = Pipeline.Choose(penalized);
            if (state.IsAllowed(token)) return true;
        }
        var mask = state.AllowedTokens();
        token = -1;
        if (mask.IsEmpty) return false;
        penalized = LogitsPipeline.ApplyMask(penalized, row, mask);
        token = Pipeline.Choose(penalized);
        return true;
    }

    private void Finish(int token, TokenLogProb? logProb, string text, FinishReason reason)
    {
        IsFinished = true;
        Emit(new GenerationEvent { TokenId = token, Text = text, LogProb = logProb, Finish = reason, CompletionTokens = GeneratedTokens });
    }
}
