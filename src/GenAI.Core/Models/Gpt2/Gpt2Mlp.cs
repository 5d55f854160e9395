using GenAI.Core.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Gpt2;

/// <summary>GPT-2's feed-forward block: <c>c_fc</c>, activation, <c>c_proj</c>.</summary>
public sealed class Gpt2Mlp : nn.Module
{
    private readonly LinearLayer _up;
    private readonly LinearLayer _down;
    private readonly string _activation;
    private readonly double _dropout;

    /// <summary>Creates the block.</summary>
    public Gpt2Mlp(Gpt2Config config) : base(nameof(Gpt2Mlp))
    {
        _activation = config.Activation;
        _dropout = config.ResidualDropout;
        _up = new LinearLayer(config.Embedding, config.InnerSize);
        _down = new LinearLayer(config.InnerSize, config.Embedding);
        register_module("c_fc", _up);
        register_module("c_proj", _down);
    }

    /// <summary>Applies the block.</summary>
    public Tensor Apply(Tensor x)
    {
        var hidden = _up.Apply(x);
        hidden = _activation switch
        {
            "gelu" => nn.functional.gelu(hidden),
            "relu" => nn.functional.relu(hidden),
            _ => nn.functional.gelu(hidden, TorchSharp.Modules.GELU.Approximate.tanh), // gelu_new, gelu_pytorch_tanh
        };
        return TrainingDropout.Apply(_down.Apply(hidden), _dropout, training);
    }
}
