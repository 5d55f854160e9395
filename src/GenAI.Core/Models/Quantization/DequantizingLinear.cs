using GenAI.Core.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Quantization;

/// <summary>
/// x · Wᵀ + b for int8 weights and many rows of x (prefill, full forwards): compute-bound, so the weight is dequantized
/// into a per-thread scratch buffer in x's dtype, a slice of output rows at a time, and multiplied as a float weight is
/// (<see cref="LinearLayer.Project(Tensor, Tensor, Tensor?)"/>: libtorch's GEMM, or the float32 tiles where those are
/// faster), which is far faster than any int8 kernel here for many rows. The scratch holds at most
/// <see cref="ScratchElements"/> weights, so even a large LM head needs no float copy of itself.
/// </summary>
internal static class DequantizingLinear
{
    /// <summary>Weights dequantized at a time (16 MB in float32): a GPT-2 or SmolLM2 layer fits whole.</summary>
    public const int ScratchElements = 4 << 20;

    [ThreadStatic]
    private static Tensor? _float32Scratch;

    [ThreadStatic]
    private static Tensor? _bfloat16Scratch;

    /// <summary>x [..., in] · weight [out, in]ᵀ + bias [out] → [..., out] in x's dtype (float16 x is computed in float32).</summary>
    public static Tensor Apply(Tensor x, Q8_0Weight weight, Tensor? bias)
    {
        if (x.dim() < 1 || x.shape[^1] != weight.InFeatures)
        {
            throw new ArgumentException($"x [{string.Join(", ", x.shape)}] does not end in the weight's {weight.InFeatures} input features", nameof(x));
        }
        if (bias is not null && (bias.dim() != 1 || bias.shape[0] != weight.OutFeatures))
        {
            throw new ArgumentException($"bias [{string.Join(", ", bias.shape)}] does not match the weight's {weight.OutFeatures} outputs", nameof(bias));
        }
        if (x.device_type != DeviceType.CPU) throw new ArgumentException("int8 weights run on the CPU", nameof(x));
        if (x.dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
        {
            using var widened = x.to(ScalarType.Float32);
            using var result = Apply(widened, weight, bias?.to(ScalarType.Float32));
            return result.to(x.dtype);
        }

        using var scope = NewDisposeScope();
        var scratch = Scratch(x.dtype);
        int sliceRows = Math.Max(1, ScratchElements / weight.InFeatures);
        if (sliceRows >= weight.OutFeatures)
        {
            weight.DequantizeInto(0, weight.OutFeatures, scratch);
            var whole = scratch.narrow(0, 0, (long)weight.OutFeatures * weight.InFeatures).view(weight.OutFeatures, weight.InFeatures);
            return LinearLayer.Project(x, whole, bias?.to(x.dtype)).MoveToOuterDisposeScope();
        }
        var shape = x.shape.ToArray();
        shape[^1] = weight.OutFeatures;
        var output = empty(shape, x.dtype);
        for (int first = 0; first < weight.OutFeatures; first += sliceRows)
        {
            using var slice = NewDisposeScope();
            int count = Math.Min(sliceRows, weight.OutFeatures - first);
            weight.DequantizeInto(first, count, scratch);
            var rows = scratch.narrow(0, 0, (long)count * weight.InFeatures).view(count, weight.InFeatures);
            output.narrow(-1, first, count).copy_(LinearLayer.Project(x, rows, bias?.narrow(0, first, count).to(x.dtype)));
        }
        return output.MoveToOuterDisposeScope();
    }

    private static Tensor Scratch(ScalarType dtype)
    {
        ref var scratch = ref dtype == ScalarType.BFloat16 ? ref _bfloat16Scratch : ref _float32Scratch;
        // Made outside any dispose scope, so it outlives the call that first needs it.
        scratch ??= empty(ScratchElements, dtype).DetachFromDisposeScope();
        return scratch;
    }
}
