using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Layers;

/// <summary>
/// GPT-2's "Conv1D": a linear layer whose weight is stored [in, out] (the transpose of nn.Linear), kept in that
/// layout so checkpoints load and save without transposing.
/// </summary>
public sealed class Conv1D : nn.Module
{
    [ComponentName(Name = "weight")]
    private readonly Parameter _weight;
    [ComponentName(Name = "bias")]
    private readonly Parameter _bias;

    /// <summary>Creates the layer with uninitialized parameters.</summary>
    public Conv1D(int inFeatures, int outFeatures) : base(nameof(Conv1D))
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        _weight = new Parameter(empty(inFeatures, outFeatures));
        _bias = new Parameter(empty(outFeatures));
        register_parameter("weight", _weight);
        register_parameter("bias", _bias);
    }

    /// <summary>Input width.</summary>
    public int InFeatures { get; }

    /// <summary>Output width.</summary>
    public int OutFeatures { get; }

    /// <summary>The [in, out] weight.</summary>
    public Tensor Weight => _weight;

    /// <summary>The bias.</summary>
    public Tensor Bias => _bias;

    /// <summary>x @ W + b over the last dimension.</summary>
    public Tensor Apply(Tensor x)
    {
        var outputShape = x.shape.ToArray();
        outputShape[^1] = OutFeatures;
        return addmm(_bias, x.reshape(-1, InFeatures), _weight, 1, 1).view(outputShape);
    }
}
