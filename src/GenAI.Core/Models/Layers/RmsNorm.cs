using GenAI.Core.Models.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Layers;

/// <summary>
/// RMSNorm over the last dimension with a <c>weight</c> parameter, computed as Hugging Face's Llama-family models
/// compute it: in float32 whatever the compute dtype, cast back, then scaled by the weight.
/// </summary>
public sealed class RmsNorm : nn.Module
{
    [ComponentName(Name = "weight")]
    private readonly Parameter _weight;
    private readonly double _epsilon;

    /// <summary>Creates the layer (weight 1).</summary>
    public RmsNorm(int features, double epsilon) : base(nameof(RmsNorm))
    {
        _epsilon = epsilon;
        _weight = new Parameter(ones(features));
        register_parameter("weight", _weight);
    }

    /// <summary>Normalizes <paramref name="x"/>.</summary>
    public Tensor Apply(Tensor x)
    {
        if (SmallRowKernels.Applies(x, _weight)) return SmallRowKernels.RmsNorm(x, _weight, _epsilon);
        var dtype = x.dtype;
        var h = dtype == ScalarType.Float32 ? x : x.to(ScalarType.Float32);
        var normalized = h.mul(h.pow(2).mean([-1], keepdim: true).add_(_epsilon).rsqrt_());
        return _weight.mul(dtype == ScalarType.Float32 ? normalized : normalized.to(dtype));
    }
}
