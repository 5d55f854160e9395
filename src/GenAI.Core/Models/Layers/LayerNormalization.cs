using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Layers;

/// <summary>LayerNorm over the last dimension with <c>weight</c> and <c>bias</c> parameters.</summary>
public sealed class LayerNormalization : nn.Module
{
    [ComponentName(Name = "weight")]
    private readonly Parameter _weight;
    [ComponentName(Name = "bias")]
    private readonly Parameter _bias;
    private readonly long[] _shape;
    private readonly double _epsilon;

    /// <summary>Creates the layer (weight 1, bias 0).</summary>
    public LayerNormalization(int features, double epsilon) : base(nameof(LayerNormalization))
    {
        _shape = [features];
        _epsilon = epsilon;
        _weight = new Parameter(ones(features));
        _bias = new Parameter(zeros(features));
        register_parameter("weight", _weight);
        register_parameter("bias", _bias);
    }

    /// <summary>Normalizes <paramref name="x"/>.</summary>
    public Tensor Apply(Tensor x) => nn.functional.layer_norm(x, _shape, _weight, _bias, _epsilon);

    /// <summary>Resets to weight 1, bias 0.</summary>
    public void Reset()
    {
        using var _ = no_grad();
        _weight.fill_(1);
        _bias.zero_();
    }
}
