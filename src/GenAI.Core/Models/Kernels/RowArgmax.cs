using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Kernels;

/// <summary>
/// The index of each row's largest logit, as libtorch's <c>argmax(1)</c> gives it: the first of equal maxima, and a NaN
/// above every number (the first NaN wins). libtorch takes ~30 µs for one 50,257-logit row here (a parallel reduction
/// that wakes its sleeping OpenMP workers); a greedy decode step needs it every token.
/// </summary>
internal static class RowArgmax
{
    /// <summary>argmax over dimension 1 of <paramref name="logits"/> [rows, vocab]: this kernel for float32 on the CPU, else libtorch.</summary>
    public static unsafe long[] Compute(Tensor logits)
    {
        if (logits.dtype != ScalarType.Float32 || logits.device_type != TorchSharp.DeviceType.CPU || logits.dim() != 2 || !Vector256.IsHardwareAccelerated)
        {
            using var indices = logits.argmax(1);
            return indices.data<long>().ToArray();
        }
        using var contiguous = logits.is_contiguous() ? null : logits.contiguous();
        int rows = (int)logits.size(0), vocab = (int)logits.size(1);
        float* data = (float*)TensorMemory.Pointer(contiguous ?? logits);
        var result = new long[rows];
        for (int r = 0; r < rows; r++) result[r] = Row(data + (long)r * vocab, vocab);
        GC.KeepAlive(logits);
        return result;
    }

    private static unsafe int Row(float* values, int count)
    {
        if (count == 0) return 0;
        int i = 0;
        var best = Vector256.Create(float.NegativeInfinity);
        var bestIndex = Vector256<int>.Zero;
        var index = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        var step = Vector256.Create(8);
        var nan = Vector256<float>.Zero.AsInt32();
        for (; i + 8 <= count; i += 8)
        {
            var v = Vector256.Load(values + i);
            nan |= ~Vector256.Equals(v, v).AsInt32();
            var greater = Vector256.GreaterThan(v, best).AsInt32(); // strictly: a lane keeps its first maximum
            best = Vector256.Max(v, best);
            bestIndex = Vector256.ConditionalSelect(greater, index, bestIndex);
            index += step;
        }
        if (i == 0 || nan != Vector256<int>.Zero) return Scalar(values, count);
        // Across lanes: the largest value, and of equal ones the smallest index; then the tail in order.
        float max = best[0];
        int at = bestIndex[0];
        for (int lane = 1; lane < 8; lane++)
        {
            float v = best[lane];
            int position = bestIndex[lane];
            if (v > max || (v == max && position < at))
            {
                max = v;
                at = position;
            }
        }
        return Continue(values, i, count, max, at);
    }

    // libtorch's order: the first NaN, else the first maximum.
    private static unsafe int Scalar(float* values, int count) =>
        float.IsNaN(values[0]) ? 0 : Continue(values, 1, count, values[0], 0);

    // Scans values[from..count) after a maximum max found at index at: the first NaN, or the first larger value's index.
    private static unsafe int Continue(float* values, int from, int count, float max, int at)
    {
        for (int i = from; i < count; i++)
        {
            float v = values[i];
            if (float.IsNaN(v)) return i;
            if (v > max)
            {
                max = v;
                at = i;
            }
        }
        return at;
    }
}
