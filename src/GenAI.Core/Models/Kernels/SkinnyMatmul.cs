using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GenAI.Core.Models.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Kernels;

/// <summary>
/// y = x·Wᵀ + b for a few rows of x (decode steps): libtorch's CPU GEMV/skinny-GEMM reads large weights at a
/// fraction of DRAM bandwidth here (7–20 GB/s of ~45), and decoding is bound by exactly that read. This kernel
/// streams each weight row once, computes its dot products with every row of x while it is in L1, and splits
/// the weight rows across threads. Weights may be float32 or bfloat16 (converted to float32 in registers, so half the
/// bytes are read); x is the weights' dtype, accumulated in float32, and the result comes back in that dtype.
/// Int8 (<see cref="Q8_0Weight"/>) weights read a quarter of float32's bytes, on one of two paths (<see cref="Int8Path"/>).
/// </summary>
public static class SkinnyMatmul
{
    /// <summary>Most rows of x the kernel takes (but see <see cref="TakesFloat32Gemm"/>); more rows are compute-bound and go to libtorch's GEMM.</summary>
    public const int MaxRows = 16;

    // Past this many blocks a row (131,072 input features) the kernels' per-thread scale buffers would outgrow the stack.
    private const int MaxInt8Blocks = 4096;

    [ThreadStatic]
    private static Int8KernelPath? _int8PathOnThisThread;

    /// <summary>True when this CPU has AVX-VNNI (and AVX2), so int8 weights can take the <see cref="Int8KernelPath.Vnni"/> path.</summary>
    public static bool VnniSupported => AvxVnni.IsSupported && Avx2.IsSupported;

    /// <summary>
    /// The path int8 weights take on the calling thread: <see cref="Int8KernelPath.Vnni"/> where the CPU has it, else
    /// <see cref="Int8KernelPath.Portable"/>. Tests and benchmarks set it to run either; setting Vnni on a CPU without it throws.
    /// </summary>
    public static Int8KernelPath Int8Path
    {
        get => _int8PathOnThisThread ?? (VnniSupported ? Int8KernelPath.Vnni : Int8KernelPath.Portable);
        set
        {
            if (value == Int8KernelPath.Vnni && !VnniSupported) throw new PlatformNotSupportedException("this CPU has no AVX-VNNI");
            _int8PathOnThisThread = value;
        }
    }

    [ThreadStatic]
    private static bool? _wideVectorsOnThisThread;

    /// <summary>
    /// Whether float32 and bfloat16 weights against four or more rows of x (batched decode, small prefills: compute
    /// bound) use 512-bit vectors: true where the CPU has them. Tests and benchmarks set it to run either path on the
    /// calling thread; setting it on a CPU without them throws.
    /// </summary>
    public static bool WideVectors
    {
        get => _wideVectorsOnThisThread ?? Vector512.IsHardwareAccelerated;
        set
        {
            if (value && !Vector512.IsHardwareAccelerated) throw new PlatformNotSupportedException("this CPU has no 512-bit vectors");
            _wideVectorsOnThisThread = value;
        }
    }

    /// <summary>
    /// True when <see cref="Linear(Tensor, Tensor, Tensor?)"/> can take these operands: CPU, float32 or bfloat16 (both the same), contiguous
    /// weights, no autograd, few rows.
    /// </summary>
    public static bool Applies(Tensor x, Tensor weight) =>
        Vector256.IsHardwareAccelerated
        && !is_grad_enabled()
        && x.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU
        && x.dtype == weight.dtype && x.dtype is ScalarType.Float32 or ScalarType.BFloat16
        && (x.numel() / x.size(-1) <= MaxRows || x.dtype == ScalarType.Float32 && TakesFloat32Gemm)
        && weight.numel() * weight.ElementSize <= int.MaxValue // the bytes are reached through a Span
        && weight.is_contiguous();

    /// <summary>
    /// True when float32 products of any number of rows (prefill) run here rather than on libtorch's GEMM: on AMD CPUs
    /// with 512-bit vectors, where the MKL inside libtorch picks its AVX2 kernels by vendor (a 128-token GPT-2-shaped
    /// prefill: ~155 ms on MKL, ~100–120 ms on these tiles). bfloat16 stays on libtorch (oneDNN uses the CPU's
    /// bfloat16 instructions), as does every product on other CPUs. Tests set <see cref="WideVectors"/> to run either.
    /// </summary>
    public static bool TakesFloat32Gemm => WideVectors && IsAmd;

    private static readonly bool IsAmd = X86Base.IsSupported && CpuVendor() == "AuthenticAMD";

    private static string CpuVendor()
    {
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        Span<byte> name = stackalloc byte[12];
        BitConverter.TryWriteBytes(name, ebx);
        BitConverter.TryWriteBytes(name[4..], edx);
        BitConverter.TryWriteBytes(name[8..], ecx);
        return System.Text.Encoding.ASCII.GetString(name);
    }

    /// <summary>x [..., in] · weight [out, in]ᵀ + bias [out] → [..., out]. Check <see cref="Applies(Tensor, Tensor)"/> first.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias) => Linear(x, [weight], [bias])[0];

    /// <summary>
    /// Several projections of the same x (a layer's query, key and value; its gate and up) in one hand-off to the kernel
    /// threads: <c>x · weights[i]ᵀ + biases[i]</c> in order, each bit for bit what its own call gives (see
    /// <see cref="SplitPoint"/>). Every weight passes <see cref="Applies(Tensor, Tensor)"/>.
    /// </summary>
    public static unsafe Tensor[] Linear(Tensor x, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor?> biases)
    {
        int count = weights.Count, inFeatures = (int)x.size(-1);
        var outFeatures = new int[count];
        for (int i = 0; i < count; i++)
        {
            if (weights[i].dim() != 2 || weights[i].size(1) != inFeatures)
            {
                throw new ArgumentException($"x has {inFeatures} features, weight {i} is [{string.Join(", ", weights[i].shape)}]", nameof(weights));
            }
            outFeatures[i] = (int)weights[i].size(0);
            if (biases[i] is { } bias && (bias.dim() != 1 || bias.size(0) != outFeatures[i]))
            {
                throw new ArgumentException($"bias [{string.Join(", ", bias.shape)}] does not match weight {i}'s {outFeatures[i]} outputs", nameof(biases));
            }
        }
        using var contiguous = x.is_contiguous() ? null : x.contiguous();
        var input = contiguous ?? x;
        int rows = (int)(input.numel() / inFeatures);

        // bfloat16 x, y and biases pass through float32 copies in this thread's scratch (Applies: at most MaxRows rows),
        // not through new tensors: each costs microseconds of handles, and a decode step makes hundreds of these calls.
        bool bfloat16 = x.dtype == ScalarType.BFloat16;
        var outputs = new Tensor[count];
        var convertedBiases = new Tensor?[count];
        try
        {
            long scratchFloats = bfloat16 ? (long)rows * inFeatures : 0;
            var yOffsets = new long[count];
            var biasOffsets = new long[count];
            long work = 0;
            for (int i = 0; i < count; i++)
            {
                work += (long)rows * inFeatures * outFeatures[i];
                outputs[i] = empty(OutputShape(x, outFeatures[i]), x.dtype);
                if (bfloat16)
                {
                    yOffsets[i] = scratchFloats;
                    scratchFloats += (long)rows * outFeatures[i];
                }
                biasOffsets[i] = -1;
                if (biases[i] is not { } bias) continue;
                if (bias.dtype == ScalarType.BFloat16 && bias.is_contiguous())
                {
                    biasOffsets[i] = scratchFloats;
                    scratchFloats += outFeatures[i];
                }
                else
                {
                    convertedBiases[i] = TensorMemory.ContiguousFloat32(bias);
                }
            }

            float* scratch = scratchFloats > 0 ? (float*)ThreadScratch.Get(scratchFloats * sizeof(float)) : null;
            float* xp = (float*)TensorMemory.Pointer(input);
            if (bfloat16)
            {
                BFloat16Bits.ToSingles((ushort*)xp, scratch, (long)rows * inFeatures);
                xp = scratch;
            }
            var operands = new Operands[count];
            for (int i = 0; i < count; i++)
            {
                float* bp = null;
                if (biasOffsets[i] >= 0)
                {
                    bp = scratch + biasOffsets[i];
                    BFloat16Bits.ToSingles((ushort*)TensorMemory.Pointer(biases[i]!), bp, outFeatures[i]);
                }
                else if (biases[i] is { } bias)
                {
                    bp = (float*)TensorMemory.Pointer(convertedBiases[i] ?? bias);
                }
                float* yp = bfloat16 ? scratch + yOffsets[i] : (float*)TensorMemory.Pointer(outputs[i]);
                operands[i] = new Operands(TensorMemory.Pointer(weights[i]), bp, yp, outFeatures[i]);
            }

            int parts = Partitions(work, outFeatures.Sum());
            if (bfloat16)
            {
                RunAll<BFloat16Weights>(xp, operands, rows, inFeatures, parts);
                for (int i = 0; i < count; i++) BFloat16Bits.FromSingles(operands[i].Y, (ushort*)TensorMemory.Pointer(outputs[i]), (long)rows * outFeatures[i]);
            }
            else
            {
                RunAll<Float32Weights>(xp, operands, rows, inFeatures, parts);
            }
            GC.KeepAlive(x);
            GC.KeepAlive(weights);
            GC.KeepAlive(biases);
            return outputs;
        }
        catch
        {
            foreach (var output in outputs) output?.Dispose();
            throw;
        }
        finally
        {
            foreach (var converted in convertedBiases) converted?.Dispose();
        }
    }

    /// <summary>
    /// Where partition <paramref name="t"/> of <paramref name="parts"/> starts in a weight's <paramref name="outFeatures"/>
    /// rows: on a multiple of 4, so that the 4 × 4 tiles cover the same rows however the rows are split, and a projection's
    /// result does not depend on the thread count or on the other projections of its call.
    /// </summary>
    private static int SplitPoint(int outFeatures, int t, int parts) =>
        t >= parts ? outFeatures : (int)((long)outFeatures * t / parts) & ~3;

    /// <summary>One projection of a <see cref="Linear(Tensor, IReadOnlyList{Tensor}, IReadOnlyList{Tensor?})"/> call: where its weight, bias and result are.</summary>
    private readonly unsafe struct Operands(void* w, float* bias, float* y, int outFeatures)
    {
        public void* W { get; } = w;
        public float* Bias { get; } = bias;
        public float* Y { get; } = y;
        public int OutFeatures { get; } = outFeatures;
    }

    private static unsafe void RunAll<TWeights>(float* x, Operands[] operands, int rows, int inFeatures, int parts) where TWeights : struct, IWeightFormat
    {
        bool wide = WideVectors;
        var jobs = operands.Select(o => new Job<TWeights>(x, o.W, o.Bias, o.Y, rows, inFeatures, o.OutFeatures, wide)).ToArray();
        RunSplit(parts, operands.Select(o => o.OutFeatures).ToArray(), (i, first, end) => jobs[i].Run(first, end));
    }

    // Splitting small outputs costs more in hand-offs than it saves.
    private static int Partitions(long work, int outFeatures) =>
        work < 65_536 ? 1 : Math.Min(KernelThreads.Default.MaxPartitions, Math.Max(1, outFeatures / 64));

    /// <summary>One hand-off to the kernel threads: partition t runs rows [SplitPoint(t), SplitPoint(t + 1)) of every weight i.</summary>
    private static void RunSplit(int parts, int[] outFeatures, Action<int, int, int> run) =>
        KernelThreads.Default.Run(parts, t =>
        {
            for (int i = 0; i < outFeatures.Length; i++) run(i, SplitPoint(outFeatures[i], t, parts), SplitPoint(outFeatures[i], t + 1, parts));
        });

    /// <summary>True when <see cref="Linear(Tensor, Q8_0Weight, Tensor?)"/> can take these operands: few rows of float x on the CPU, no autograd.</summary>
    public static bool Applies(Tensor x, Q8_0Weight weight) =>
        Vector256.IsHardwareAccelerated
        && !is_grad_enabled()
        && x.device_type == DeviceType.CPU
        && x.dtype is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16
        && x.dim() >= 1 && x.size(-1) == weight.InFeatures
        && x.numel() / weight.InFeatures <= MaxRows
        && weight.Blocks <= MaxInt8Blocks;

    /// <summary>
    /// x [..., in] · weight [out, in]ᵀ + bias [out] → [..., out] for int8 (Q8_0) weights, accumulated in float32 and
    /// returned in x's dtype. Check <see cref="Applies(Tensor, Q8_0Weight)"/> first. Both paths compute the same sum of
    /// dequantized weights times x; the VNNI path also rounds x to Q8_0 (each block to 1/254 of its largest |value|).
    /// </summary>
    public static Tensor Linear(Tensor x, Q8_0Weight weight, Tensor? bias) => Linear(x, [weight], [bias])[0];

    /// <summary>
    /// Several int8 projections of the same x in one hand-off to the kernel threads (see
    /// <see cref="Linear(Tensor, IReadOnlyList{Tensor}, IReadOnlyList{Tensor?})"/>); x is quantized (VNNI) or padded once
    /// for all of them. Every weight takes x's features and passes <see cref="Applies(Tensor, Q8_0Weight)"/>.
    /// </summary>
    public static unsafe Tensor[] Linear(Tensor x, IReadOnlyList<Q8_0Weight> weights, IReadOnlyList<Tensor?> biases)
    {
        int count = weights.Count;
        var first = weights[0];
        for (int i = 0; i < count; i++)
        {
            var weight = weights[i];
            if (x.size(-1) != weight.InFeatures)
            {
                throw new ArgumentException($"x has {x.size(-1)} features, the weight takes {weight.InFeatures}", nameof(x));
            }
            if (biases[i] is { } bias && (bias.dim() != 1 || bias.size(0) != weight.OutFeatures))
            {
                throw new ArgumentException($"bias [{string.Join(", ", bias.shape)}] does not match the weight's {weight.OutFeatures} outputs", nameof(biases));
            }
        }
        int inFeatures = first.InFeatures, padded = first.PaddedInFeatures;
        using var converted = TensorMemory.ContiguousFloat32(x);
        var input = converted ?? x;
        int rows = (int)(input.numel() / inFeatures);
        var outputs = new Tensor[count];
        var convertedBiases = new Tensor?[count];
        try
        {
            float* xp = (float*)TensorMemory.Pointer(input);
            var ys = new nint[count];
            var bs = new nint[count];
            long work = 0;
            for (int i = 0; i < count; i++)
            {
                outputs[i] = empty(OutputShape(x, weights[i].OutFeatures), ScalarType.Float32);
                ys[i] = (nint)TensorMemory.Pointer(outputs[i]);
                if (biases[i] is { } bias)
                {
                    convertedBiases[i] = TensorMemory.ContiguousFloat32(bias);
                    bs[i] = (nint)TensorMemory.Pointer(convertedBiases[i] ?? bias);
                }
                work += (long)rows * inFeatures * weights[i].OutFeatures;
            }
            var outFeatures = weights.Select(w => w.OutFeatures).ToArray();
            int parts = Partitions(work, outFeatures.Sum());
            if (Int8Path == Int8KernelPath.Vnni)
            {
                long quantizedBytes = rows * Q8_0VnniJob.RowBytes(first);
                byte* scratch = ThreadScratch.Get(quantizedBytes + (long)rows * first.Blocks * sizeof(float));
                float* scales = (float*)(scratch + quantizedBytes);
                Q8_0VnniJob.QuantizeActivations(xp, rows, first, scratch, scales);
                var jobs = Enumerable.Range(0, count).Select(i => new Q8_0VnniJob(scratch, scales, weights[i], (float*)bs[i], (float*)ys[i], rows)).ToArray();
                RunSplit(parts, outFeatures, (i, first, end) => jobs[i].Run(first, end));
            }
            else
            {
                if (padded != inFeatures)
                {
                    // The kernel reads whole blocks: rows of x padded with zeros to the weight's padded length.
                    float* paddedX = (float*)ThreadScratch.Get((long)rows * padded * sizeof(float));
                    for (int m = 0; m < rows; m++)
                    {
                        new ReadOnlySpan<float>(xp + (long)m * inFeatures, inFeatures).CopyTo(new Span<float>(paddedX + (long)m * padded, inFeatures));
                        new Span<float>(paddedX + (long)m * padded + inFeatures, padded - inFeatures).Clear();
                    }
                    xp = paddedX;
                }
                float* xq = xp;
                var jobs = Enumerable.Range(0, count).Select(i => new Q8_0FloatJob(xq, weights[i], (float*)bs[i], (float*)ys[i], rows)).ToArray();
                RunSplit(parts, outFeatures, (i, first, end) => jobs[i].Run(first, end));
            }
            GC.KeepAlive(x);
            GC.KeepAlive(weights);
            GC.KeepAlive(biases);
        }
        catch
        {
            foreach (var output in outputs) output?.Dispose();
            throw;
        }
        finally
        {
            foreach (var bias in convertedBiases) bias?.Dispose();
        }
        if (x.dtype == ScalarType.Float32) return outputs;
        for (int i = 0; i < count; i++)
        {
            using var output = outputs[i];
            outputs[i] = output.to(x.dtype);
        }
        return outputs;
    }

    // x's shape with the last dimension outFeatures.
    private static long[] OutputShape(Tensor x, int outFeatures)
    {
        var shape = TensorMemory.Shape(x);
        shape[^1] = outFeatures;
        return shape;
    }

    private readonly unsafe struct Job<TWeights>(float* x, void* w, float* bias, float* y, int rows, int inFeatures, int outFeatures, bool wide)
        where TWeights : struct, IWeightFormat
    {
        private void* Row(int n) => (byte*)w + (long)n * inFeatures * TWeights.Size;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int firstOut, int endOut)
        {
            // Many rows of x (a prefill) go in blocks of ~256 KiB that stay in L2 while the thread's weight rows stream
            // past each block once.
            int block = Math.Max(4, (1 << 18) / (inFeatures * sizeof(float)) / 4 * 4);
            for (int m0 = 0; m0 < rows; m0 += block) RunBlock(firstOut, endOut, m0, Math.Min(rows, m0 + block));
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunBlock(int firstOut, int endOut, int firstRow, int endRow)
        {
            int n = firstOut;
            if (endRow - firstRow >= 4)
            {
                // Four weight rows against four rows of x: sixteen accumulators, each load feeds four FMAs.
                for (; n + 4 <= endOut; n += 4)
                {
                    int m = firstRow;
                    for (; m + 4 <= endRow; m += 4)
                    {
                        if (wide) Tile4x4Wide(Row(n), x + (long)m * inFeatures, inFeatures, y + (long)m * outFeatures + n, outFeatures);
                        else Tile4x4(Row(n), x + (long)m * inFeatures, inFeatures, y + (long)m * outFeatures + n, outFeatures);
                    }
                    for (; m < endRow; m++)
                        for (int j = 0; j < 4; j++) y[(long)m * outFeatures + n + j] = Dot1(Row(n + j), x + (long)m * inFeatures, inFeatures);
                }
            }
            for (; n < endOut; n++)
            {
                void* wRow = Row(n);
                int m = firstRow;
                for (; m + 4 <= endRow; m += 4)
                {
                    Dot4(wRow, x + (long)m * inFeatures, inFeatures, out float d0, out float d1, out float d2, out float d3);
                    y[(long)m * outFeatures + n] = d0;
                    y[(long)(m + 1) * outFeatures + n] = d1;
                    y[(long)(m + 2) * outFeatures + n] = d2;
                    y[(long)(m + 3) * outFeatures + n] = d3;
                }
                for (; m < endRow; m++) y[(long)m * outFeatures + n] = Dot1(wRow, x + (long)m * inFeatures, inFeatures);
            }
            if (bias is not null)
            {
                for (int m = firstRow; m < endRow; m++)
                    for (int j = firstOut; j < endOut; j++) y[(long)m * outFeatures + j] += bias[j];
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Tile4x4(void* w0, float* x0, int length, float* y, int yStride)
        {
            long rowBytes = (long)length * TWeights.Size;
            void* w1 = (byte*)w0 + rowBytes, w2 = (byte*)w1 + rowBytes, w3 = (byte*)w2 + rowBytes;
            float* x1 = x0 + length, x2 = x1 + length, x3 = x2 + length;
            Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
            Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
            Vector256<float> a20 = default, a21 = default, a22 = default, a23 = default;
            Vector256<float> a30 = default, a31 = default, a32 = default, a33 = default;
            int k = 0;
            for (; k + 8 <= length; k += 8)
            {
                if ((k & 15) == 0) WeightPrefetch.NextTile(w0, rowBytes, (long)k * TWeights.Size);
                var p0 = Vector256.Load(x0 + k);
                var p1 = Vector256.Load(x1 + k);
                var p2 = Vector256.Load(x2 + k);
                var p3 = Vector256.Load(x3 + k);
                var u = TWeights.Load(w0, k);
                a00 = Vector256.FusedMultiplyAdd(u, p0, a00); a01 = Vector256.FusedMultiplyAdd(u, p1, a01);
                a02 = Vector256.FusedMultiplyAdd(u, p2, a02); a03 = Vector256.FusedMultiplyAdd(u, p3, a03);
                u = TWeights.Load(w1, k);
                a10 = Vector256.FusedMultiplyAdd(u, p0, a10); a11 = Vector256.FusedMultiplyAdd(u, p1, a11);
                a12 = Vector256.FusedMultiplyAdd(u, p2, a12); a13 = Vector256.FusedMultiplyAdd(u, p3, a13);
                u = TWeights.Load(w2, k);
                a20 = Vector256.FusedMultiplyAdd(u, p0, a20); a21 = Vector256.FusedMultiplyAdd(u, p1, a21);
                a22 = Vector256.FusedMultiplyAdd(u, p2, a22); a23 = Vector256.FusedMultiplyAdd(u, p3, a23);
                u = TWeights.Load(w3, k);
                a30 = Vector256.FusedMultiplyAdd(u, p0, a30); a31 = Vector256.FusedMultiplyAdd(u, p1, a31);
                a32 = Vector256.FusedMultiplyAdd(u, p2, a32); a33 = Vector256.FusedMultiplyAdd(u, p3, a33);
            }
            TileSums.Store4x4(y, yStride, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
            AddTail(w0, x0, length, k, y, yStride);
        }

        /// <summary>Adds columns <paramref name="k"/>.. (past the last whole vector) of a 4 × 4 tile to its outputs.</summary>
        private static void AddTail(void* w0, float* x0, int length, int k, float* y, int yStride)
        {
            long rowBytes = (long)length * TWeights.Size;
            for (; k < length; k++)
            {
                for (int j = 0; j < 4; j++)
                {
                    float wv = TWeights.Scalar((byte*)w0 + j * rowBytes, k);
                    for (int m = 0; m < 4; m++) y[m * yStride + j] += wv * x0[(long)m * length + k];
                }
            }
        }

        /// <summary><see cref="Tile4x4"/> with 512-bit vectors: twice the multiply-adds per instruction.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Tile4x4Wide(void* w0, float* x0, int length, float* y, int yStride)
        {
            long rowBytes = (long)length * TWeights.Size;
            void* w1 = (byte*)w0 + rowBytes, w2 = (byte*)w1 + rowBytes, w3 = (byte*)w2 + rowBytes;
            float* x1 = x0 + length, x2 = x1 + length, x3 = x2 + length;
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
            Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
            Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
            int k = 0;
            for (; k + 16 <= length; k += 16)
            {
                WeightPrefetch.NextTile(w0, rowBytes, (long)k * TWeights.Size);
                var p0 = Vector512.Load(x0 + k);
                var p1 = Vector512.Load(x1 + k);
                var p2 = Vector512.Load(x2 + k);
                var p3 = Vector512.Load(x3 + k);
                var u = TWeights.Load512(w0, k);
                a00 = Vector512.FusedMultiplyAdd(u, p0, a00); a01 = Vector512.FusedMultiplyAdd(u, p1, a01);
                a02 = Vector512.FusedMultiplyAdd(u, p2, a02); a03 = Vector512.FusedMultiplyAdd(u, p3, a03);
                u = TWeights.Load512(w1, k);
                a10 = Vector512.FusedMultiplyAdd(u, p0, a10); a11 = Vector512.FusedMultiplyAdd(u, p1, a11);
                a12 = Vector512.FusedMultiplyAdd(u, p2, a12); a13 = Vector512.FusedMultiplyAdd(u, p3, a13);
                u = TWeights.Load512(w2, k);
                a20 = Vector512.FusedMultiplyAdd(u, p0, a20); a21 = Vector512.FusedMultiplyAdd(u, p1, a21);
                a22 = Vector512.FusedMultiplyAdd(u, p2, a22); a23 = Vector512.FusedMultiplyAdd(u, p3, a23);
                u = TWeights.Load512(w3, k);
                a30 = Vector512.FusedMultiplyAdd(u, p0, a30); a31 = Vector512.FusedMultiplyAdd(u, p1, a31);
                a32 = Vector512.FusedMultiplyAdd(u, p2, a32); a33 = Vector512.FusedMultiplyAdd(u, p3, a33);
            }
            TileSums.Store4x4(y, yStride, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
            AddTail(w0, x0, length, k, y, yStride);
        }

        /// <summary>One weight row against four rows of x; each weight vector is loaded once and used four times.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Dot4(void* w, float* x0, int length, out float d0, out float d1, out float d2, out float d3)
        {
            float* x1 = x0 + length, x2 = x1 + length, x3 = x2 + length;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
            int k = 0;
            for (; k + 16 <= length; k += 16)
            {
                PrefetchAhead(w, k);
                var u = TWeights.Load(w, k);
                var v = TWeights.Load(w, k + 8);
                a0 = Vector256.FusedMultiplyAdd(u, Vector256.Load(x0 + k), a0);
                a1 = Vector256.FusedMultiplyAdd(u, Vector256.Load(x1 + k), a1);
                a2 = Vector256.FusedMultiplyAdd(u, Vector256.Load(x2 + k), a2);
                a3 = Vector256.FusedMultiplyAdd(u, Vector256.Load(x3 + k), a3);
                c0 = Vector256.FusedMultiplyAdd(v, Vector256.Load(x0 + k + 8), c0);
                c1 = Vector256.FusedMultiplyAdd(v, Vector256.Load(x1 + k + 8), c1);
                c2 = Vector256.FusedMultiplyAdd(v, Vector256.Load(x2 + k + 8), c2);
                c3 = Vector256.FusedMultiplyAdd(v, Vector256.Load(x3 + k + 8), c3);
            }
            d0 = Vector256.Sum(a0 + c0);
            d1 = Vector256.Sum(a1 + c1);
            d2 = Vector256.Sum(a2 + c2);
            d3 = Vector256.Sum(a3 + c3);
            for (; k < length; k++)
            {
                float wv = TWeights.Scalar(w, k);
                d0 += wv * x0[k];
                d1 += wv * x1[k];
                d2 += wv * x2[k];
                d3 += wv * x3[k];
            }
        }

        /// <summary>Prefetches ahead of element <paramref name="k"/> of a weight row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void PrefetchAhead(void* row, int k) => WeightPrefetch.TwoLines((byte*)row + (long)k * TWeights.Size);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static float Dot1(void* w, float* x, int length)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int k = 0;
            for (; k + 32 <= length; k += 32)
            {
                PrefetchAhead(w, k);
                a0 = Vector256.FusedMultiplyAdd(TWeights.Load(w, k), Vector256.Load(x + k), a0);
                a1 = Vector256.FusedMultiplyAdd(TWeights.Load(w, k + 8), Vector256.Load(x + k + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(TWeights.Load(w, k + 16), Vector256.Load(x + k + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(TWeights.Load(w, k + 24), Vector256.Load(x + k + 24), a3);
            }
            for (; k + 8 <= length; k += 8) a0 = Vector256.FusedMultiplyAdd(TWeights.Load(w, k), Vector256.Load(x + k), a0);
            float sum = Vector256.Sum((a0 + a1) + (a2 + a3));
            for (; k < length; k++) sum += TWeights.Scalar(w, k) * x[k];
            return sum;
        }
    }
}

/// <summary>How <see cref="SkinnyMatmul"/> multiplies int8 (Q8_0) weights.</summary>
public enum Int8KernelPath
{
    /// <summary>int8 weights widened to float32 in registers, times float32 x (any CPU with 256-bit vectors).</summary>
    Portable,

    /// <summary>x quantized to int8 per block, int8 × int8 products summed by AVX-VNNI's <c>vpdpbusd</c>.</summary>
    Vnni,
}
