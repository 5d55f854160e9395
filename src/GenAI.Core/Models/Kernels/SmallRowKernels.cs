using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Kernels;

/// <summary>
/// The elementwise steps of a decode pass over a few rows — RMSNorm and rotary embedding — in one pass over the
/// elements each. libtorch spends ~1.5 µs of dispatch and allocation per op on these few-hundred-element tensors, and
/// each of them is five to eight ops (float32 upcasts, pow, mean, rsqrt, the rotate-half concatenation...). Results
/// equal the libtorch formulation of the layers: float32 throughout for float32 tensors; for bfloat16, rounded to
/// bfloat16 wherever that formulation rounds.
/// </summary>
internal static class SmallRowKernels
{
    /// <summary>Largest tensor (elements) the kernels take; bigger ones (prefill) are worth libtorch's threads.</summary>
    public const int MaxElements = 1 << 16;

    /// <summary>True when the kernels can take <paramref name="x"/> (with <paramref name="other"/> of the same dtype).</summary>
    public static bool Applies(Tensor x, Tensor other) =>
        !is_grad_enabled()
        && x.device_type == DeviceType.CPU && other.device_type == DeviceType.CPU
        && x.dtype is ScalarType.Float32 or ScalarType.BFloat16
        && other.dtype == x.dtype
        && x.numel() <= MaxElements;

    /// <summary>
    /// RMSNorm over the last dimension as Hugging Face's Llama computes it: x·rsqrt(mean(x²)+ε) in float32, cast to the
    /// input dtype, times the weight. <paramref name="weight"/> is [features], contiguous.
    /// </summary>
    public static unsafe Tensor RmsNorm(Tensor x, Tensor weight, double epsilon)
    {
        int features = (int)x.size(-1);
        using var contiguous = x.is_contiguous() ? null : x.contiguous();
        var input = contiguous ?? x;
        var output = empty_like(input);
        int rows = (int)(x.numel() / features);
        void* xp = TensorMemory.Pointer(input), wp = TensorMemory.Pointer(weight), yp = TensorMemory.Pointer(output);
        if (x.dtype == ScalarType.Float32)
        {
            for (int r = 0; r < rows; r++) RmsNormRow((float*)xp + (long)r * features, (float*)wp, (float*)yp + (long)r * features, features, (float)epsilon);
        }
        else
        {
            for (int r = 0; r < rows; r++) RmsNormRow((ushort*)xp + (long)r * features, (ushort*)wp, (ushort*)yp + (long)r * features, features, (float)epsilon);
        }
        GC.KeepAlive(x);
        GC.KeepAlive(weight);
        return output;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RmsNormRow(float* x, float* w, float* y, int length, float epsilon)
    {
        float scale = InverseRms(SumOfSquares<Float32Weights>(x, length), length, epsilon);
        int k = 0;
        var s = Vector256.Create(scale);
        for (; k + 8 <= length; k += 8) (Vector256.Load(w + k) * (Vector256.Load(x + k) * s)).Store(y + k);
        for (; k < length; k++) y[k] = w[k] * (x[k] * scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RmsNormRow(ushort* x, ushort* w, ushort* y, int length, float epsilon)
    {
        float scale = InverseRms(SumOfSquares<BFloat16Weights>(x, length), length, epsilon);
        for (int k = 0; k < length; k++)
        {
            float normalized = BFloat16Bits.Round(BFloat16Bits.ToSingle(x[k]) * scale);
            y[k] = BFloat16Bits.From(BFloat16Bits.ToSingle(w[k]) * normalized);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float SumOfSquares<TFormat>(void* x, int length) where TFormat : struct, IWeightFormat
    {
        var a = Vector256<float>.Zero;
        int k = 0;
        for (; k + 8 <= length; k += 8)
        {
            var v = TFormat.Load(x, k);
            a = Vector256.FusedMultiplyAdd(v, v, a);
        }
        float sum = Vector256.Sum(a);
        for (; k < length; k++)
        {
            float v = TFormat.Scalar(x, k);
            sum += v * v;
        }
        return sum;
    }

    private static float InverseRms(float sumOfSquares, int length, float epsilon) => 1 / MathF.Sqrt(sumOfSquares / length + epsilon);

    /// <summary>
    /// Rotary embedding on split halves (<c>rotate_half</c>) of <paramref name="x"/> [batch, heads, tokens, head_dim]:
    /// x·cos + rotate_half(x)·sin over the first <paramref name="rotaryDim"/> dimensions, the rest copied.
    /// <paramref name="cos"/> and <paramref name="sin"/> are [batch or 1, 1, tokens, rotaryDim], contiguous. Returns a
    /// contiguous tensor of x's shape.
    /// </summary>
    public static unsafe Tensor Rotary(Tensor x, Tensor cos, Tensor sin, int rotaryDim)
    {
        int batch = (int)x.size(0), heads = (int)x.size(1), tokens = (int)x.size(2), headDim = (int)x.size(3);
        using var contiguous = x.is_contiguous() ? null : x.contiguous(); // a decode step's [batch, heads, 1, head_dim] view already is
        var input = contiguous ?? x;
        var output = empty_like(input);
        byte* xp = (byte*)TensorMemory.Pointer(input), yp = (byte*)TensorMemory.Pointer(output);
        byte* cp = (byte*)TensorMemory.Pointer(cos), sp = (byte*)TensorMemory.Pointer(sin);
        int size = (int)x.ElementSize, half = rotaryDim / 2;
        bool perRow = cos.size(0) == batch && batch > 1;
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int t = 0; t < tokens; t++)
                {
                    long element = (((long)b * heads + h) * tokens + t) * headDim * size;
                    long table = ((perRow ? (long)b * tokens : 0) + t) * rotaryDim * size;
                    if (x.dtype == ScalarType.BFloat16) RotateRow((ushort*)(xp + element), (ushort*)(yp + element), (ushort*)(cp + table), (ushort*)(sp + table), half, headDim);
                    else RotateRow((float*)(xp + element), (float*)(yp + element), (float*)(cp + table), (float*)(sp + table), half, headDim);
                }
        GC.KeepAlive(x);
        GC.KeepAlive(cos);
        GC.KeepAlive(sin);
        return output;
    }

    private static unsafe void RotateRow(float* x, float* y, float* cos, float* sin, int half, int headDim)
    {
        for (int i = 0; i < half; i++)
        {
            float a = x[i], b = x[i + half];
            y[i] = a * cos[i] + -b * sin[i];
            y[i + half] = b * cos[i + half] + a * sin[i + half];
        }
        for (int i = 2 * half; i < headDim; i++) y[i] = x[i];
    }

    // bfloat16: libtorch rounds each product and the sum, as in (x·cos) + (rotate_half(x)·sin).
    private static unsafe void RotateRow(ushort* x, ushort* y, ushort* cos, ushort* sin, int half, int headDim)
    {
        for (int i = 0; i < half; i++)
        {
            float a = BFloat16Bits.ToSingle(x[i]), b = BFloat16Bits.ToSingle(x[i + half]);
            y[i] = BFloat16Bits.From(BFloat16Bits.Round(a * BFloat16Bits.ToSingle(cos[i])) + BFloat16Bits.Round(-b * BFloat16Bits.ToSingle(sin[i])));
            y[i + half] = BFloat16Bits.From(BFloat16Bits.Round(b * BFloat16Bits.ToSingle(cos[i + half])) + BFloat16Bits.Round(a * BFloat16Bits.ToSingle(sin[i + half])));
        }
        for (int i = 2 * half; i < headDim; i++) y[i] = x[i];
    }
}
