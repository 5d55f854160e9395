using System.Threading.Channels;
using GenAI.Core.Tokenization;
using static TorchSharp.torch;

namespace GenAI.Core.Generation;

/// <summary>
/// Beam search with Hugging Face's rules: each step scores every continuation of the <c>num_beams</c> running
/// beams, takes the best (1 + number of end tokens, at least 2) × num_beams candidates, adds those ending on an
/// end token to the finished hypotheses only when ranked within the top num_beams, and keeps the best num_beams
/// others running. Streams the tokens every candidate for the answer agrees on; the rest when the search ends.
/// </summary>
internal sealed class BeamSearchRequest : ActiveRequest
{
    private readonly int _beams;
    private readonly BeamHypotheses _hypotheses;
    private readonly StreamingDetokenizer _prefixDetokenizer;
    private const double DeadScore = -1e9;
    private List<(List<int> Tokens, double Sum)> _running;
    private int _streamed;
    private string _streamedText = "";

    public BeamSearchRequest(GenerationRequest request, TextTokenizer tokenizer, IReadOnlyList<int> eosTokenIds, Device device,
        ChannelWriter<GenerationEvent> events, CancellationToken cancellation)
        : base(request, tokenizer, eosTokenIds, device, events, cancellation)
    {
        _beams = Parameters.NumBeams;
        _hypotheses = new BeamHypotheses(_beams, Parameters.LengthPenalty, Parameters.EarlyStopping, Parameters.MaxTokens);
        _prefixDetokenizer = tokenizer.CreateStreamingDetokenizer();
        _running = [([], 0.0)];
    }

    public override int RowCount => _beams;

    public override IEnumerable<long> NextInputs()
    {
        for (int b = 0; b < _beams; b++) yield return _running[Math.Min(b, _running.Count - 1)].Tokens[^1];
    }

    public override int[]? Advance(Tensor logits, long[]? argmax, bool afterPrefill)
    {
        using var scope = NewDisposeScope();
        int vocab = (int)logits.shape[1];
        int beamsNow = afterPrefill ? 1 : _beams; // after the prefill every beam is the prompt: expand one
        var rows = new List<Tensor>(beamsNow);
        for (int b = 0; b < beamsNow; b++)
        {
            var beam = _running[b];
            // As Hugging Face's beam search: processors act on the log-probs, which are not renormalized after.
            var logprobs = logits[afterPrefill ? 0 : b].log_softmax(0);
            if (Pipeline.HasPenalties)
            {
                var sequence = Request.PromptTokens.Concat(beam.Tokens).ToList();
                var counts = beam.Tokens.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
                logprobs = Pipeline.ApplyPenalties(logprobs, sequence, counts, beam.Tokens.Count);
            }
            rows.Add(logprobs.add(beam.Sum));
        }
        var scores = stack(rows).view(-1);
        int candidates = Math.Min(Math.Max(2, 1 + EndTokens.Count) * _beams, (int)scores.shape[0]);
        var (values, indices) = scores.topk(candidates);
        var candidateScores = values.to(ScalarType.Float64).data<double>().ToArray();
        var candidateIndices = indices.data<long>().ToArray();

        int length = _running[0].Tokens.Count + 1;
        var next = new List<(int Source, List<int> Tokens, double Sum)>(_beams);
        for (int rank = 0; rank < candidates && next.Count < _beams; rank++)
        {
            int source = (int)(candidateIndices[rank] / vocab), token = (int)(candidateIndices[rank] % vocab);
            var tokens = new List<int>(_running[source].Tokens) { token };
            if (EndTokens.Contains(token))
            {
                if (rank < _beams) _hypotheses.Add(tokens, candidateScores[rank], ended: true);
            }
            else
            {
                next.Add((source, tokens, candidateScores[rank]));
            }
        }
        GeneratedTokens = length;
        // Fewer live candidates than beams (a tiny vocabulary right after the prompt): fill the rows with dead beams,
        // as Hugging Face's -1e9 initial scores do; they never win and are never returned.
        for (int dead = 0; next.Count > 0 && next.Count < _beams; dead++) next.Add((next[0].Source, next[0].Tokens, DeadScore));

        bool done = next.Count == 0 || _hypotheses.IsDone(next[0].Sum, length) || length >= Parameters.MaxTokens;
        if (done)
        {
            if (length >= Parameters.MaxTokens || _hypotheses.Count == 0)
            {
                foreach (var beam in next.Where(b => b.Sum > DeadScore)) _hypotheses.Add(beam.Tokens, beam.Sum, ended: false);
            }
            FinishAll();
            return null;
        }

        _running = next.Select(n => (n.Tokens, n.Sum)).ToList();
        StreamAgreedPrefix();
        return next.Select(n => n.Source).ToArray();
    }

    /// <summary>Emits the tokens every running beam and every kept hypothesis share beyond what was streamed.</summary>
    private void StreamAgreedPrefix()
    {
        var candidates = _running.Where(r => r.Sum > DeadScore).Select(r => (IReadOnlyList<int>)r.Tokens)
            .Concat(_hypotheses.Best.Select(h => h.Tokens)).ToList();
        int agreed = candidates.Min(c => c.Count);
        for (int i = 0; i < agreed; i++)
        {
            if (candidates.Any(c => c[i] != candidates[0][i])) { agreed = i; break; }
        }
        for (; _streamed < agreed; _streamed++)
        {
            int token = candidates[0][_streamed];
            if (EndTokens.Contains(token)) break;
            string text = _prefixDetokenizer.Push(token);
            _streamedText += text;
            for (int index = 0; index < Parameters.NumReturnSequences; index++) Emit(new GenerationEvent { Index = index, TokenId = token, Text = text });
        }
    }

    private void FinishAll()
    {
        IsFinished = true;
        var best = _hypotheses.Best.Take(Parameters.NumReturnSequences).ToList();
        for (int index = 0; index < best.Count; index++)
        {
            var hypothesis = best[index];
            var textTokens = hypothesis.Ended ? hypothesis.Tokens.Take(hypothesis.Tokens.Count - 1) : hypothesis.Tokens;
            string full = Tokenizer.Decode(textTokens);
            // Streamed text is a prefix of every candidate's text (the streaming detokenizer emits whole characters only).
            string rest = full.StartsWith(_streamedText, StringComparison.Ordinal) ? full[_streamedText.Length..] : full;
            for (int t = _streamed; t < hypothesis.Tokens.Count - 1; t++) Emit(new GenerationEvent { Index = index, TokenId = hypothesis.Tokens[t] });
            Emit(new GenerationEvent
            {
                Index = index,
                TokenId = hypothesis.Tokens[^1],
                Text = rest,
                Finish = hypothesis.Ended ? FinishReason.Stop : FinishReason.Length,
                Score = hypothesis.Score,
                CompletionTokens = hypothesis.Tokens.Count,
            });
        }
    }
}
