using GenAI.Core.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Gpt2;

/// <summary>GPT-2 multi-head causal self-attention (fused <c>c_attn</c> projection, <c>c_proj</c> output).</summary>
public sealed class Gpt2Attention : nn.Module
{
    private readonly LinearLayer _qkv;
    private readonly LinearLayer _output;
    private readonly int _heads;
    private readonly int _headDim;
    private readonly int _layerIndex;
    private readonly double _queryScale;
    private readonly double _attentionDropout;
    private readonly double _residualDropout;

    /// <summary>Creates the attention of block <paramref name="layerIndex"/>.</summary>
    public Gpt2Attention(Gpt2Config config, int layerIndex) : base(nameof(Gpt2Attention))
    {
        _heads = config.Heads;
        _headDim = config.HeadDim;
        _layerIndex = layerIndex;
        // scaled_dot_product_attention always divides by sqrt(head_dim); GPT-2 variants that scale differently
        // get the difference folded into the queries.
        double scale = (config.ScaleAttentionWeights ? 1.0 : Math.Sqrt(_headDim))
                       / (config.ScaleAttentionByInverseLayerIndex ? layerIndex + 1 : 1);
        _queryScale = scale;
        _attentionDropout = config.AttentionDropout;
        _residualDropout = config.ResidualDropout;
        _qkv = new LinearLayer(config.Embedding, 3 * config.Embedding);
        _output = new LinearLayer(config.Embedding, config.Embedding);
        register_module("c_attn", _qkv);
        register_module("c_proj", _output);
    }

    /// <summary>Attends <paramref name="x"/> [batch, tokens, width] over itself and, with a cache, the cached past.</summary>
    public Tensor Apply(Tensor x, KvCache? cache, KvCacheStep? step)
    {
        long batch = x.size(0), tokens = x.size(1), width = x.size(2);
        var qkv = _qkv.Apply(x).view(batch, tokens, 3, _heads, _headDim).permute(2, 0, 3, 1, 4);
        Tensor query = qkv[0], key = qkv[1], value = qkv[2];
        if (cache is not null && step is not null && !training && cache.CanAttend(step, query))
        {
            cache.Write(_layerIndex, step, key, value);
            var attendedInPlace = cache.Attend(_layerIndex, step, query, _queryScale / Math.Sqrt(_headDim));
            return TrainingDropout.Apply(_output.Apply(attendedInPlace), _residualDropout, training);
        }
        if (_queryScale != 1.0) query = query.mul(_queryScale);

        Tensor? mask = null;
        bool causal = tokens > 1;
        if (cache is not null && step is not null)
        {
            cache.Write(_layerIndex, step, key, value);
            (key, value) = cache.Read(_layerIndex, step);
            mask = step.Mask;
            causal = step.IsCausal;
        }

        double dropout = training ? _attentionDropout : 0.0;
        var attended = nn.functional.scaled_dot_product_attention(query, key, value, mask, dropout, causal && mask is null);
        var merged = attended.transpose(1, 2).reshape(batch, tokens, width);
        return TrainingDropout.Apply(_output.Apply(merged), _residualDropout, training);
    }
}
