using GenAI.Core.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Llama;

/// <summary>
/// Grouped-query self-attention of the Llama family: <c>q_proj</c>/<c>k_proj</c>/<c>v_proj</c> (or Phi-3's fused
/// <c>qkv_proj</c>), optional per-head <c>q_norm</c>/<c>k_norm</c> (Qwen3), rotary embedding, and <c>o_proj</c> from
/// heads × head_dim back to the hidden size. Keys and values have <see cref="LlamaConfig.KvHeads"/> heads, each shared by
/// Heads / KvHeads query heads; the cache stores only those.
/// </summary>
public sealed class LlamaAttention : nn.Module
{
    private readonly LinearLayer? _query, _key, _value, _qkv;
    private readonly LinearLayer _output;
    private readonly RmsNorm? _queryNorm, _keyNorm;
    private readonly int _heads, _kvHeads, _headDim, _layerIndex;
    private readonly double _dropout;

    /// <summary>Creates the attention of layer <paramref name="layerIndex"/>.</summary>
    public LlamaAttention(LlamaConfig config, int layerIndex) : base(nameof(LlamaAttention))
    {
        _heads = config.Heads;
        _kvHeads = config.KvHeads;
        _headDim = config.HeadDim;
        _layerIndex = layerIndex;
        _dropout = config.AttentionDropout;
        int queryWidth = _heads * _headDim, kvWidth = _kvHeads * _headDim;
        if (config.FusedProjections)
        {
            _qkv = new LinearLayer(config.Hidden, queryWidth + 2 * kvWidth, config.QkvBias);
            register_module("qkv_proj", _qkv);
        }
        else
        {
            _query = new LinearLayer(config.Hidden, queryWidth, config.QkvBias);
            _key = new LinearLayer(config.Hidden, kvWidth, config.QkvBias);
            _value = new LinearLayer(config.Hidden, kvWidth, config.QkvBias);
            register_module("q_proj", _query);
            register_module("k_proj", _key);
            register_module("v_proj", _value);
        }
        _output = new LinearLayer(queryWidth, config.Hidden, config.OutputBias);
        register_module("o_proj", _output);
        if (config.QueryKeyNorm)
        {
            _queryNorm = new RmsNorm(_headDim, config.RmsNormEpsilon);
            _keyNorm = new RmsNorm(_headDim, config.RmsNormEpsilon);
            register_module("q_norm", _queryNorm);
            register_module("k_norm", _keyNorm);
        }
    }

    /// <summary>Attends <paramref name="x"/> [batch, tokens, hidden] over itself and, with a cache, the cached past.</summary>
    internal Tensor Apply(Tensor x, LlamaForwardPass pass)
    {
        long batch = x.size(0), tokens = x.size(1);
        Tensor query, key, value;
        if (_qkv is not null)
        {
            var qkv = _qkv.Apply(x);
            int queryWidth = _heads * _headDim, kvWidth = _kvHeads * _headDim;
            query = qkv.narrow(-1, 0, queryWidth);
            key = qkv.narrow(-1, queryWidth, kvWidth);
            value = qkv.narrow(-1, queryWidth + kvWidth, kvWidth);
        }
        else
        {
            var projected = LinearLayer.ApplyAll(x, _query!, _key!, _value!);
            (query, key, value) = (projected[0], projected[1], projected[2]);
        }
        query = query.view(batch, tokens, _heads, _headDim);
        key = key.view(batch, tokens, _kvHeads, _headDim);
        if (_queryNorm is not null)
        {
            query = _queryNorm.Apply(query);
            key = _keyNorm!.Apply(key);
        }
        query = pass.Rotary.Apply(query.transpose(1, 2), pass.Cos, pass.Sin);
        key = pass.Rotary.Apply(key.transpose(1, 2), pass.Cos, pass.Sin);
        value = value.view(batch, tokens, _kvHeads, _headDim).transpose(1, 2);

        if (pass.Cache is not null)
        {
            pass.Cache.Write(_layerIndex, pass.Step!, key, value);
            if (!training && pass.Cache.CanAttend(pass.Step!, query))
            {
                return _output.Apply(pass.Cache.Attend(_layerIndex, pass.Step!, query, 1 / Math.Sqrt(_headDim), pass.WindowOf(_layerIndex)));
            }
            (key, value) = pass.Cache.Read(_layerIndex, pass.Step!);
        }
        var attended = Attend(query, key, value, pass.MaskFor(_layerIndex));
        return _output.Apply(attended.transpose(1, 2).reshape(batch, tokens, _heads * _headDim));
    }

    private Tensor Attend(Tensor query, Tensor key, Tensor value, AttentionMask mask)
    {
        double dropout = training ? _dropout : 0.0;
        int group = _heads / _kvHeads;
        long batch = query.size(0), tokens = query.size(2);
        if (group > 1 && tokens == 1)
        {
            // One new token per row: the query heads of a group become rows of one key/value head, so the (cached)
            // keys and values are read as they are, not copied per query head. A mask [batch, 1, 1, span] broadcasts.
            var grouped = query.reshape(batch, _kvHeads, group, _headDim);
            return nn.functional.scaled_dot_product_attention(grouped, key, value, mask.Mask, dropout, false)
                .reshape(batch, _heads, 1, _headDim);
        }
        if (group > 1)
        {
            key = key.repeat_interleave(group, 1);
            value = value.repeat_interleave(group, 1);
        }
        return nn.functional.scaled_dot_product_attention(query, key, value, mask.Mask, dropout, mask.IsCausal && mask.Mask is null);
    }
}
