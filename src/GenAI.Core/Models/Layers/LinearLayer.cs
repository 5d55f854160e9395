using GenAI.Core.Models.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Layers;

/// <summary>
/// A linear layer (weight [out, in] as nn.Linear, optional bias [out]). Decode steps (a few rows, no autograd, CPU
/// float32) run on <see cref="SkinnyMatmul"/>; everything else on libtorch.
/// </summary>
public sealed class LinearLayer : nn.Module
{
    [ComponentName(Name = "weight")]
    private readonly Parameter _weight;
    [ComponentName(Name = "bias")]
    private readonly Parameter? _bias;

    /// <summary>Creates the layer with uninitialized parameters; <paramref name="bias"/> false leaves out the bias.</summary>
    public LinearLayer(int inFeatures, int outFeatures, bool bias = true) : base(nameof(LinearLayer))
    {
        _weight = new Parameter(empty(outFeatures, inFeatures));
        register_parameter("weight", _weight);
        if (bias)
        {
            _bias = new Parameter(empty(outFeatures));
            register_parameter("bias", _bias);
        }
    }

    /// <summary>The [out, in] weight.</summary>
    public Tensor Weight => _weight;

    /// <summary>x·Wᵀ (+ b) over the last dimension.</summary>
    public Tensor Apply(Tensor x) => Project(x, _weight, _bias);

    /// <summary>x·Wᵀ (+ b) with the kernel that suits the operands.</summary>
    public static Tensor Project(Tensor x, Tensor weight, Tensor? bias = null) =>
        SkinnyMatmul.Applies(x, weight) ? SkinnyMatmul.Linear(x, weight, bias) : nn.functional.linear(x, weight, bias);
}
