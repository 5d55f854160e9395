using GenAI.Core.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Llama;

/// <summary>
/// The Llama-family causal LM (transformers' <c>LlamaForCausalLM</c> and its Mistral, Qwen2, Qwen3 and Phi-3 kin):
/// token embedding, pre-RMSNorm decoder layers with grouped-query attention and a gated MLP, final RMSNorm, and the LM
/// head (tied to the embedding or its own <c>lm_head</c>). Parameter names are the checkpoint's without <c>model.</c>.
/// </summary>
public sealed class LlamaModel : CausalLanguageModel
{
    private const string Prefix = "model.";
    private readonly LlamaConfig _config;
    private readonly EmbeddingTable _tokens;
    private readonly ModuleList<LlamaDecoderLayer> _layers;
    private readonly RmsNorm _finalNorm;
    private readonly LinearLayer? _head;
    private readonly RotaryEmbedding _rotary;

    /// <summary>Builds the model with uninitialized weights.</summary>
    public LlamaModel(LlamaConfig config) : base(nameof(LlamaModel), config)
    {
        _config = config;
        _rotary = new RotaryEmbedding(config.Rope);
        _tokens = new EmbeddingTable(config.VocabSize, config.Hidden);
        _layers = new ModuleList<LlamaDecoderLayer>(Enumerable.Range(0, config.Layers).Select(i => new LlamaDecoderLayer(config, i)).ToArray());
        _finalNorm = new RmsNorm(config.Hidden, config.RmsNormEpsilon);
        register_module("embed_tokens", _tokens);
        register_module("layers", _layers);
        register_module("norm", _finalNorm);
        if (!config.TieWordEmbeddings)
        {
            _head = new LinearLayer(config.Hidden, config.VocabSize, bias: false);
            register_module("lm_head", _head);
        }
    }

    /// <inheritdoc />
    protected override Tensor HiddenStates(Tensor inputIds, KvCache? cache, KvCacheStep? step)
    {
        var x = _tokens.Lookup(inputIds);
        var pass = new LlamaForwardPass(_config, _rotary, (int)inputIds.size(0), (int)inputIds.size(1), inputIds.device, x.dtype, cache, step);
        x = TrainingDropout.Apply(x, _config.EmbeddingDropout, training);
        x = ApplyLayers(_layers, x, (layer, input) => layer.Apply(input, pass));
        return _finalNorm.Apply(x);
    }

    /// <inheritdoc />
    protected override LinearLayer? OutputLayer => _head;

    /// <inheritdoc />
    protected override Tensor TokenEmbeddingWeight => _tokens.Weight;

    /// <inheritdoc />
    public override KvCache CreateKvCache(int maxBatch, int maxSequenceLength) =>
        new(_config.Layers, maxBatch, maxSequenceLength, _config.KvHeads, _config.HeadDim, DType, Device);

    /// <inheritdoc />
    public override void InitializeWeights(long seed)
    {
        // As transformers initializes these models: linear and embedding weights N(0, initializer_range), biases 0, norms 1.
        using var _ = no_grad();
        using var generator = new Generator((ulong)seed, Device);
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal)) p.fill_(1);
            else if (name.EndsWith(".bias", StringComparison.Ordinal)) p.zero_();
            else p.normal_(0, _config.InitializerRange, generator);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _rotary.Dispose();
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override IEnumerable<string> CheckpointNames(string parameterName)
    {
        if (parameterName.StartsWith("lm_head.", StringComparison.Ordinal))
        {
            yield return parameterName;
            yield break;
        }
        yield return Prefix + parameterName;
        yield return parameterName;
    }
}
