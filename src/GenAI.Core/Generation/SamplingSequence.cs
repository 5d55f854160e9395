using System.Threading.Channels;
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

    public SamplingSequence(GenerationRequest request, TextTokenizer tokenizer, IReadOnlyList<int> eosTokenIds, Device device,
        ChannelWriter<GenerationEvent> events, CancellationToken cancellation)
        : base(request, tokenizer, eosTokenIds, device, events, cancellation)
    {
        _sequence = [.. request.PromptTokens];
        _detokenizer = tokenizer.CreateStreamingDetokenizer();
        _stops = new StopStringMatcher(Parameters.Stop);
    }

    public override int RowCount => 1;

    public override IReadOnlyList<int>? Sequence => _sequence;

    public override IEnumerable<long> NextInputs() => [_sequence[^1]];

    public override int[]? Advance(Tensor logits, long[]? argmax, bool afterPrefill)
    {
        int token;
        TokenLogProb? logProb = null;
        if (UsesBatchArgmax && argmax is not null)
        {
            token = (int)argmax[FirstRow];
        }
        else
        {
            using var scope = NewDisposeScope();
            var penalized = Pipeline.ApplyPenalties(logits[0], _sequence, _outputCounts, GeneratedTokens);
            token = Pipeline.Choose(penalized);
            logProb = Pipeline.LogProbs(penalized, token);
        }

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

    private void Finish(int token, TokenLogProb? logProb, string text, FinishReason reason)
    {
        IsFinished = true;
        Emit(new GenerationEvent { TokenId = token, Text = text, LogProb = logProb, Finish = reason, CompletionTokens = GeneratedTokens });
    }
}
