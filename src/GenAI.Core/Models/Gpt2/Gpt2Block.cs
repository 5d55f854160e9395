using GenAI.Core.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Gpt2;

/// <summary>One pre-LayerNorm GPT-2 block: x + attn(ln_1(x)), then + mlp(ln_2(x)).</summary>
public sealed class Gpt2Block : nn.Module
{
    private readonly LayerNormalization _norm1;
    private readonly LayerNormalization _norm2;

    /// <summary>Creates block <paramref name="layerIndex"/>.</summary>
    public Gpt2Block(Gpt2Config config, int layerIndex) : base(nameof(Gpt2Block))
    {
        _norm1 = new LayerNormalization(config.Embedding, config.LayerNormEpsilon);
        Attention = new Gpt2Attention(config, layerIndex);
        _norm2 = new LayerNormalization(config.Embedding, config.LayerNormEpsilon);
        Mlp = new Gpt2Mlp(config);
        register_module("ln_1", _norm1);
        register_module("attn", Attention);
        register_module("ln_2", _norm2);
        register_module("mlp", Mlp);
    }

    /// <summary>The attention sub-block.</summary>
    public Gpt2Attention Attention { get; }

    /// <summary>The feed-forward sub-block.</summary>
    public Gpt2Mlp Mlp { get; }

    /// <summary>Applies the block.</summary>
    public Tensor Apply(Tensor x, KvCache? cache, KvCacheStep? step)
    {
        x = x.add(Attention.Apply(_norm1.Apply(x), cache, step));
        return x.add(Mlp.Apply(_norm2.Apply(x)));
    }

    /// <summary>Resets the LayerNorms to weight 1, bias 0.</summary>
    public void ResetNorms()
    {
        _norm1.Reset();
        _norm2.Reset();
    }
}
