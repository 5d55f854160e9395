using GenAI.Core.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Llama;

/// <summary>One pre-RMSNorm decoder layer: x + attn(input_layernorm(x)), then + mlp(post_attention_layernorm(x)).</summary>
public sealed class LlamaDecoderLayer : nn.Module
{
    private readonly RmsNorm _inputNorm;
    private readonly LlamaAttention _attention;
    private readonly RmsNorm _postAttentionNorm;
    private readonly GatedMlp _mlp;
    private readonly double _residualDropout;

    /// <summary>Creates layer <paramref name="layerIndex"/>.</summary>
    public LlamaDecoderLayer(LlamaConfig config, int layerIndex) : base(nameof(LlamaDecoderLayer))
    {
        _residualDropout = config.ResidualDropout;
        _inputNorm = new RmsNorm(config.Hidden, config.RmsNormEpsilon);
        _attention = new LlamaAttention(config, layerIndex);
        _postAttentionNorm = new RmsNorm(config.Hidden, config.RmsNormEpsilon);
        _mlp = new GatedMlp(config.Hidden, config.IntermediateSize, config.Activation, config.MlpBias, config.FusedProjections);
        register_module("input_layernorm", _inputNorm);
        register_module("self_attn", _attention);
        register_module("post_attention_layernorm", _postAttentionNorm);
        register_module("mlp", _mlp);
    }

    internal Tensor Apply(Tensor x, LlamaForwardPass pass)
    {
        x = x.add(TrainingDropout.Apply(_attention.Apply(_inputNorm.Apply(x), pass), _residualDropout, training));
        return x.add(TrainingDropout.Apply(_mlp.Apply(_postAttentionNorm.Apply(x)), _residualDropout, training));
    }
}
