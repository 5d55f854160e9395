using GenAI.Core.Models.Kernels;
using GenAI.Core.Models.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Layers;

/// <summary>
/// A linear layer (weight [out, in] as nn.Linear, optional bias [out]). Decode steps (a few rows, no autograd, CPU
/// float32) run on <see cref="SkinnyMatmul"/>; everything else on libtorch. <see cref="Quantize"/> replaces the float
/// weight by an int8 <see cref="Q8_0Weight"/> for inference: the <c>weight</c> parameter is gone from then on.
/// </summary>
public sealed class LinearLayer : nn.Module
{
    [ComponentName(Name = "weight")]
    private Parameter? _weight;
    [ComponentName(Name = "bias")]
    private readonly Parameter? _bias;
    private Q8_0Weight? _quantized;

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

    /// <summary>The [out, in] float weight; a quantized layer has none.</summary>
    public Tensor Weight => _weight ?? throw new InvalidOperationException("the layer is quantized to int8: it has no float weight");

    /// <summary>The int8 weight once <see cref="Quantize"/> has run, else null.</summary>
    public Q8_0Weight? QuantizedWeight => _quantized;

    /// <summary>x·Wᵀ (+ b) over the last dimension.</summary>
    public Tensor Apply(Tensor x) => _quantized is null ? Project(x, _weight!, _bias) : Project(x, _quantized, _bias);

    /// <summary>
    /// x·Wᵀ (+ b) of several layers over the same x (a layer's query, key and value; gate and up), in order: one kernel
    /// call for all of them where they take the decode kernels (one hand-off to the kernel threads instead of one each),
    /// else each its own.
    /// </summary>
    public static Tensor[] ApplyAll(Tensor x, params LinearLayer[] layers)
    {
        var biases = layers.Select(l => (Tensor?)l._bias).ToArray();
        if (layers.All(l => l._quantized is not null))
        {
            var quantized = layers.Select(l => l._quantized!).ToArray();
            if (!is_grad_enabled() && quantized.All(w => SkinnyMatmul.Applies(x, w))) return SkinnyMatmul.Linear(x, quantized, biases);
        }
        else if (layers.All(l => l._quantized is null))
        {
            var weights = layers.Select(l => (Tensor)l._weight!).ToArray();
            if (weights.All(w => SkinnyMatmul.Applies(x, w))) return SkinnyMatmul.Linear(x, weights, biases);
        }
        return layers.Select(l => l.Apply(x)).ToArray();
    }

    /// <summary>
    /// Replaces the float weight by its Q8_0 quantization (a no-op if already done) and frees the float weight. The
    /// layer is for inference from then on: the weight is no longer a parameter, and a forward pass with autograd
    /// enabled throws.
    /// </summary>
    public void Quantize()
    {
        if (_quantized is not null) return;
        _quantized = Q8_0Weight.Quantize(_weight!);
        ConditionallyRegisterParameter("weight", (Parameter?)null);
        _weight!.Dispose();
        _weight = null;
    }

    /// <summary>x·Wᵀ (+ b) with the kernel that suits the operands.</summary>
    public static Tensor Project(Tensor x, Tensor weight, Tensor? bias = null) =>
        SkinnyMatmul.Applies(x, weight) ? SkinnyMatmul.Linear(x, weight, bias) : nn.functional.linear(x, weight, bias);

    /// <summary>x·Wᵀ (+ b) for an int8 weight: the decode kernel for a few rows, dequantized slices and libtorch's GEMM for many.</summary>
    public static Tensor Project(Tensor x, Q8_0Weight weight, Tensor? bias = null)
    {
        if (is_grad_enabled())
        {
            throw new InvalidOperationException(
                "this model's weights are quantized to int8 for inference: training and autograd need its float weights; load it without Quantize");
        }
        return SkinnyMatmul.Applies(x, weight) ? SkinnyMatmul.Linear(x, weight, bias) : DequantizingLinear.Apply(x, weight, bias);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _quantized?.Dispose();
            _quantized = null;
        }
        base.Dispose(disposing);
    }
}
