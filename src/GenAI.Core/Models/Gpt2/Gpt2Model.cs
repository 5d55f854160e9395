using GenAI.Core.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Gpt2;

/// <summary>
/// Hugging Face's GPT2LMHeadModel: token + learned position embeddings, pre-LayerNorm blocks, final LayerNorm,
/// LM head tied to <c>wte</c> (or a separate <c>lm_head</c> when <c>tie_word_embeddings</c> is false).
/// </summary>
public sealed class Gpt2Model : CausalLanguageModel
{
    private readonly Gpt2Config _config;
    private readonly EmbeddingTable _tokens;
    private readonly EmbeddingTable _positions;
    private readonly ModuleList<Gpt2Block> _blocks;
    private readonly LayerNormalization _finalNorm;
    private readonly LinearLayer? _head;

    /// <summary>Builds the model with uninitialized weights.</summary>
    public Gpt2Model(Gpt2Config config) : base(nameof(Gpt2Model), config)
    {
        _config = config;
        _tokens = new EmbeddingTable(config.VocabSize, config.Embedding);
        _positions = new EmbeddingTable(config.Positions, config.Embedding);
        _blocks = new ModuleList<Gpt2Block>(Enumerable.Range(0, config.Layers).Select(i => new Gpt2Block(config, i)).ToArray());
        _finalNorm = new LayerNormalization(config.Embedding, config.LayerNormEpsilon);
        register_module("wte", _tokens);
        register_module("wpe", _positions);
        register_module("h", _blocks);
        register_module("ln_f", _finalNorm);
        if (!config.TieWordEmbeddings)
        {
            _head = new LinearLayer(config.Embedding, config.VocabSize, bias: false);
            register_module("lm_head", _head);
        }
    }

    /// <inheritdoc />
    protected override Tensor HiddenStates(Tensor inputIds, KvCache? cache, KvCacheStep? step)
    {
        int tokens = (int)inputIds.size(1);
        int span = step?.Span ?? tokens;
        if (span > _config.Positions)
        {
            throw new ArgumentOutOfRangeException(nameof(inputIds), $"{span} positions exceed the model's context of {_config.Positions}");
        }
        var positions = step?.Positions ?? arange(tokens, ScalarType.Int64, inputIds.device).unsqueeze(0);
        var x = _tokens.Lookup(inputIds).add(_positions.Lookup(positions));
        x = TrainingDropout.Apply(x, _config.EmbeddingDropout, training);
        x = ApplyLayers(_blocks, x, (block, input) => block.Apply(input, cache, step));
        return _finalNorm.Apply(x);
    }

    /// <inheritdoc />
    protected override LinearLayer? OutputLayer => _head;

    /// <inheritdoc />
    protected override Tensor TokenEmbeddingWeight => _tokens.Weight;

    /// <inheritdoc />
    public override KvCache CreateKvCache(int maxBatch, int maxSequenceLength) =>
        new(_config.Layers, maxBatch, Math.Min(maxSequenceLength, _config.Positions), _config.Heads, _config.HeadDim, DType, Device);

    /// <inheritdoc />
    public override void InitializeWeights(long seed)
    {
        using var _ = no_grad();
        using var generator = new Generator((ulong)seed, Device);
        const double std = 0.02;
        // GPT-2 scales the residual projections by 1/sqrt(2 * n_layer) (nanoGPT does the same).
        double residualStd = std / Math.Sqrt(2.0 * _config.Layers);
        _tokens.Weight.normal_(0, std, generator);
        _positions.Weight.normal_(0, std, generator);
        foreach (var block in _blocks)
        {
            block.ResetNorms();
            foreach (var (name, p) in block.named_parameters())
            {
                if (name.EndsWith(".bias", StringComparison.Ordinal) && !name.Contains("ln_")) p.zero_();
                else if (name.EndsWith("c_proj.weight", StringComparison.Ordinal)) p.normal_(0, residualStd, generator);
                else if (!name.Contains("ln_")) p.normal_(0, std, generator);
            }
        }
        _finalNorm.Reset();
        _head?.Weight.normal_(0, std, generator);
    }

    /// <inheritdoc />
    public override bool IsStoredTransposed(string parameterName) =>
        parameterName.EndsWith(".weight", StringComparison.Ordinal)
        && (parameterName.Contains(".attn.c_", StringComparison.Ordinal) || parameterName.Contains(".mlp.c_", StringComparison.Ordinal));

    /// <inheritdoc />
    public override IEnumerable<string> CheckpointNames(string parameterName)
    {
        yield return parameterName;
        if (!parameterName.StartsWith("lm_head.", StringComparison.Ordinal)) yield return "transformer." + parameterName;
    }
}
