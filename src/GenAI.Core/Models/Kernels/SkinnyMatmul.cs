using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Kernels;

/// <summary>
/// y = x·Wᵀ + b for a few rows of x (decode steps): libtorch's CPU GEMV/skinny-GEMM reads large weights at a
/// fraction of DRAM bandwidth here (7–20 GB/s of ~45), and decoding is bound by exactly that read. This kernel
/// streams each weight row once, computes its dot products with every row of x while it is in L1, and splits
/// the weight rows across threads.
/// </summary>
public static class SkinnyMatmul
{
    /// <summary>Most rows of x the kernel takes; more rows are compute-bound and go to libtorch's GEMM.</summary>
    public const int MaxRows = 16;

    /// <summary>Threads the kernel splits weight rows over (libtorch's intra-op thread count).</summary>
    public static int Threads { get; set; } = Math.Max(1, get_num_threads());

    /// <summary>
    /// True when <see cref="Linear"/> can take these operands: CPU float32, contiguous, no autograd, few rows.
    /// </summary>
    public static bool Applies(Tensor x, Tensor weight) =>
        Vector256.IsHardwareAccelerated
        && !is_grad_enabled()
        && x.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU
        && x.dtype == ScalarType.Float32 && weight.dtype == ScalarType.Float32
        && x.numel() / x.shape[^1] <= MaxRows
        && weight.numel() * 4L <= int.MaxValue
        && weight.is_contiguous();

    /// <summary>x [..., in] · weight [out, in]ᵀ + bias [out] → [..., out]. Check <see cref="Applies"/> first.</summary>
    public static unsafe Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        int inFeatures = (int)weight.shape[1], outFeatures = (int)weight.shape[0];
        using var input = x.contiguous();
        int rows = (int)(input.numel() / inFeatures);
        var shape = x.shape.ToArray();
        shape[^1] = outFeatures;
        var output = empty(shape, ScalarType.Float32);
        using var biasContiguous = bias?.contiguous();

        float* xp = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(input.bytes));
        float* wp = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(weight.bytes));
        float* yp = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(output.bytes));
        float* bp = biasContiguous is null ? null : (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(biasContiguous.bytes));

        var job = new Job(xp, wp, bp, yp, rows, inFeatures, outFeatures);
        int threads = Math.Min(Threads, Math.Max(1, outFeatures / 64));
        if (threads == 1)
        {
            job.Run(0, outFeatures);
        }
        else
        {
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                job.Run((int)((long)outFeatures * t / threads), (int)((long)outFeatures * (t + 1) / threads)));
        }
        return output;
    }

    private readonly unsafe struct Job(float* x, float* w, float* bias, float* y, int rows, int inFeatures, int outFeatures)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int firstOut, int endOut)
        {
            int n = firstOut;
            // Two weight rows against four rows of x at a time: eight independent accumulators hide the FMA
            // latency, and each loaded weight vector is used four times.
            for (; n + 2 <= endOut && rows >= 4; n += 2)
            {
                float* w0 = w + (long)n * inFeatures, w1 = w0 + inFeatures;
                int m = 0;
                for (; m + 4 <= rows; m += 4) Block2x4(w0, w1, x + (long)m * inFeatures, inFeatures, y + (long)m * outFeatures + n, outFeatures);
                for (; m < rows; m++)
                {
                    y[(long)m * outFeatures + n] = Dot1(w0, x + (long)m * inFeatures, inFeatures);
                    y[(long)m * outFeatures + n + 1] = Dot1(w1, x + (long)m * inFeatures, inFeatures);
                }
            }
            for (; n < endOut; n++)
            {
                float* wRow = w + (long)n * inFeatures;
                for (int m = 0; m < rows; m++) y[(long)m * outFeatures + n] = Dot1(wRow, x + (long)m * inFeatures, inFeatures);
            }
            if (bias is not null)
            {
                for (int m = 0; m < rows; m++)
                    for (int j = firstOut; j < endOut; j++) y[(long)m * outFeatures + j] += bias[j];
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static float Dot1(float* w, float* x, int length)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int k = 0;
            for (; k + 32 <= length; k += 32)
            {
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(w + k), Vector256.Load(x + k), a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(w + k + 8), Vector256.Load(x + k + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(w + k + 16), Vector256.Load(x + k + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(w + k + 24), Vector256.Load(x + k + 24), a3);
            }
            for (; k + 8 <= length; k += 8) a0 = Vector256.FusedMultiplyAdd(Vector256.Load(w + k), Vector256.Load(x + k), a0);
            float sum = Vector256.Sum((a0 + a1) + (a2 + a3));
            for (; k < length; k++) sum += w[k] * x[k];
            return sum;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Block2x4(float* w0, float* w1, float* x0, int length, float* y, int yStride)
        {
            float* x1 = x0 + length, x2 = x1 + length, x3 = x2 + length;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            int k = 0;
            for (; k + 8 <= length; k += 8)
            {
                var u = Vector256.Load(w0 + k);
                var v = Vector256.Load(w1 + k);
                var p0 = Vector256.Load(x0 + k);
                var p1 = Vector256.Load(x1 + k);
                var p2 = Vector256.Load(x2 + k);
                var p3 = Vector256.Load(x3 + k);
                a0 = Vector256.FusedMultiplyAdd(u, p0, a0);
                a1 = Vector256.FusedMultiplyAdd(u, p1, a1);
                a2 = Vector256.FusedMultiplyAdd(u, p2, a2);
                a3 = Vector256.FusedMultiplyAdd(u, p3, a3);
                b0 = Vector256.FusedMultiplyAdd(v, p0, b0);
                b1 = Vector256.FusedMultiplyAdd(v, p1, b1);
                b2 = Vector256.FusedMultiplyAdd(v, p2, b2);
                b3 = Vector256.FusedMultiplyAdd(v, p3, b3);
            }
            float sa0 = Vector256.Sum(a0), sa1 = Vector256.Sum(a1), sa2 = Vector256.Sum(a2), sa3 = Vector256.Sum(a3);
            float sb0 = Vector256.Sum(b0), sb1 = Vector256.Sum(b1), sb2 = Vector256.Sum(b2), sb3 = Vector256.Sum(b3);
            for (; k < length; k++)
            {
                sa0 += w0[k] * x0[k]; sa1 += w0[k] * x1[k]; sa2 += w0[k] * x2[k]; sa3 += w0[k] * x3[k];
                sb0 += w1[k] * x0[k]; sb1 += w1[k] * x1[k]; sb2 += w1[k] * x2[k]; sb3 += w1[k] * x3[k];
            }
            y[0] = sa0; y[1] = sb0;
            y[yStride] = sa1; y[yStride + 1] = sb1;
            y[2 * yStride] = sa2; y[2 * yStride + 1] = sb2;
            y[3 * yStride] = sa3; y[3 * yStride + 1] = sb3;
        }
    }
}
