using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Layers;

/// <summary>A bias-free nn.Linear-layout projection (weight [out, in]), e.g. an untied LM head.</summary>
public sealed class LinearProjection : nn.Module
{
    [ComponentName(Name = "weight")]
    private readonly Parameter _weight;

    /// <summary>Creates the projection with an uninitialized weight.</summary>
    public LinearProjection(int inFeatures, int outFeatures) : base(nameof(LinearProjection))
    {
        _weight = new Parameter(empty(outFeatures, inFeatures));
        register_parameter("weight", _weight);
    }

    /// <summary>The [out, in] weight.</summary>
    public Tensor Weight => _weight;
}
