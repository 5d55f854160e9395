using GenAI.Core.Generation;
using GenAI.Core.Models;
using GenAI.Core.Models.Gpt2;
using GenAI.Core.Tokenization;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Generation;

/// <summary>
/// Beam search on a tiny model (8-token vocabulary, '.' ends a sequence) against exhaustive enumeration of every
/// sequence of up to 4 new tokens. Scores are sums of float32 log-probs; the comparison is of token sequences.
/// </summary>
public sealed class BeamSearchTests : IDisposable
{
    private const string Alphabet = "abcdefg.";
    private const int MaxNew = 4;
    private readonly CausalLanguageModel _model;
    private readonly CharTokenizer _tokenizer = CharTokenizer.FromCorpus(Alphabet);
    private readonly InferenceEngine _engine;
    private readonly int _end;

    public BeamSearchTests()
    {
        var config = new Gpt2Config { VocabSize = 8, Positions = 16, Embedding = 16, Layers = 2, Heads = 2 };
        _model = Gpt2Architecture.Instance.Create(config);
        _model.InitializeWeights(seed: 5);
        using (no_grad())
        {
            // Sharper distributions than the 0.02-std initialization gives, so sequences differ clearly in score.
            foreach (var p in _model.parameters()) p.mul_(40);
        }
        _model.eval();
        _end = _tokenizer.Encode(".")[0];
        _engine = new InferenceEngine(_model, _tokenizer, new EngineOptions { MaxBatchRows = 8 });
    }

    private double[] LogProbsAfter(List<int> sequence)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var logits = _model.Forward(tensor(sequence.Select(t => (long)t).ToArray(), [1, sequence.Count]), lastPositionOnly: true)[0, 0];
        return logits.log_softmax(0).to(ScalarType.Float64).data<double>().ToArray();
    }

    private (List<int> Tokens, double Score) Exhaustive(List<int> prompt)
    {
        (List<int>, double) best = ([], double.NegativeInfinity);
        void Walk(List<int> generated, double sum)
        {
            var logprobs = LogProbsAfter(prompt.Concat(generated).ToList());
            for (int token = 0; token < Alphabet.Length; token++)
            {
                var next = new List<int>(generated) { token };
                double score = sum + logprobs[token];
                if (token == _end || next.Count == MaxNew)
                {
                    if (score > best.Item2) best = (next, score);
                }
                else
                {
                    Walk(next, score);
                }
            }
        }
        Walk([], 0);
        return best;
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("g")]
    [InlineData("fedcba")]
    public async Task FullWidthBeamSearchFindsTheBestSequence(string promptText)
    {
        var prompt = _tokenizer.Encode(promptText).ToList();
        var (expected, expectedScore) = Exhaustive(prompt);
        var parameters = new SamplingParameters
        {
            NumBeams = Alphabet.Length, MaxTokens = MaxNew, EarlyStopping = EarlyStopping.Never, LengthPenalty = 0,
            StopTokenIds = [_end], NumReturnSequences = 3, Temperature = 0,
        };
        var stream = _engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = parameters });
        var events = new List<GenerationEvent>();
        await foreach (var e in stream) events.Add(e);

        var finals = events.Where(e => e.Finish is not null).OrderBy(e => e.Index).ToList();
        Assert.Equal(3, finals.Count);
        var best = events.Where(e => e.Index == 0 && e.TokenId is not null).Select(e => e.TokenId!.Value).ToList();
        Assert.Equal(expected, best);
        Assert.True(Math.Abs(finals[0].Score!.Value - expectedScore) <= 1e-4, $"{finals[0].Score} vs {expectedScore}");
        Assert.True(finals[0].Score >= finals[1].Score && finals[1].Score >= finals[2].Score);
        Assert.Equal(expected[^1] == _end ? FinishReason.Stop : FinishReason.Length, finals[0].Finish);
    }

    [Fact]
    public async Task StreamedTokensArePrefixOfEveryReturnedSequence()
    {
        var parameters = new SamplingParameters { NumBeams = 4, MaxTokens = 8, NumReturnSequences = 2, Temperature = 0, StopTokenIds = [_end] };
        var events = new List<GenerationEvent>();
        await foreach (var e in _engine.Submit(new GenerationRequest { PromptTokens = _tokenizer.Encode("ab"), Parameters = parameters })) events.Add(e);
        foreach (int index in new[] { 0, 1 })
        {
            var mine = events.Where(e => e.Index == index).ToList();
            var tokens = mine.Where(e => e.TokenId is not null).Select(e => e.TokenId!.Value).ToList();
            var text = string.Concat(mine.Select(e => e.Text));
            Assert.Equal(_tokenizer.Decode(tokens.Where(t => t != _end)), text);
            Assert.Equal(mine[^1].CompletionTokens, tokens.Count);
        }
    }

    public void Dispose()
    {
        _engine.Dispose();
        _model.Dispose();
    }
}
