using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Kernels;

/// <summary>
/// Attention of one new token per row over that row's cached keys and values, read in place from the
/// <see cref="KvCache"/>'s tensors. libtorch's scaled_dot_product_attention costs ~50 µs a layer here at any length
/// (a parallel region whose sleeping workers must be woken, GEMM packing) for a few microseconds of arithmetic; a
/// decode step calls it once per layer. Query heads of a group share their key/value head (grouped-query attention);
/// each row sees keys 0..its position, or the last <c>window</c> of them. Scores and sums are float32.
/// </summary>
internal static class DecodeAttention
{
    /// <summary>True when the kernel can take this step: one token per row, CPU, float32 or bfloat16 cache, no autograd.</summary>
    public static bool Applies(KvCacheStep step, Tensor query, Tensor cachedKeys) =>
        step.NewTokens == 1
        && Vector256.IsHardwareAccelerated
        && !is_grad_enabled()
        && query.device_type == DeviceType.CPU
        && cachedKeys.dtype is ScalarType.Float32 or ScalarType.BFloat16
        && query.dtype == cachedKeys.dtype;

    /// <summary>
    /// query [batch, heads, 1, head_dim] against rows <see cref="KvCacheStep.FirstRow"/>.. of the cache tensors
    /// [rows, kv_heads, positions, head_dim]; scores scaled by <paramref name="scale"/>. Returns [batch, 1, heads × head_dim]
    /// in the query's dtype (heads side by side, as the output projection takes them).
    /// </summary>
    public static unsafe Tensor Apply(Tensor query, Tensor cachedKeys, Tensor cachedValues, KvCacheStep step, double scale, int? window)
    {
        int batch = (int)query.shape[0], heads = (int)query.shape[1], headDim = (int)query.shape[3];
        int kvHeads = (int)cachedKeys.shape[1], positions = (int)cachedKeys.shape[2];
        using var q = query.dtype == ScalarType.Float32 ? query.contiguous() : query.to(ScalarType.Float32);
        var output = empty([batch, 1, (long)heads * headDim], ScalarType.Float32);
        var job = new Job(
            (float*)TensorMemory.Pointer(q), (float*)TensorMemory.Pointer(output),
            (byte*)TensorMemory.Pointer(cachedKeys), (byte*)TensorMemory.Pointer(cachedValues), cachedKeys.ElementSize,
            step, heads, kvHeads, positions, headDim, (float)scale, window);
        long work = 0;
        for (int b = 0; b < batch; b++) work += (long)heads * job.End(b) * headDim;
        int units = batch * heads;
        int parts = work < 32_768 ? 1 : Math.Min(KernelThreads.Default.MaxPartitions, units);
        if (cachedKeys.dtype == ScalarType.BFloat16)
        {
            KernelThreads.Default.Run(parts, t => job.Run<BFloat16Weights>(units * t / parts, units * (t + 1) / parts));
        }
        else
        {
            KernelThreads.Default.Run(parts, t => job.Run<Float32Weights>(units * t / parts, units * (t + 1) / parts));
        }
        GC.KeepAlive(cachedKeys);
        GC.KeepAlive(cachedValues);
        if (query.dtype == ScalarType.Float32) return output;
        using (output) return output.to(query.dtype);
    }

    private readonly unsafe struct Job(
        float* query, float* output, byte* keys, byte* values, long elementSize, KvCacheStep step,
        int heads, int kvHeads, int positions, int headDim, float scale, int? window)
    {
        private readonly int[] _lengths = step.Lengths, _tokens = step.TokensPerRow;
        private readonly int _firstRow = step.FirstRow;

        // A row with a new token sits at its cached length; one riding along (no new token) at its last cached position.
        private int Position(int b) => _tokens[b] > 0 ? _lengths[b] : Math.Max(_lengths[b] - 1, 0);

        /// <summary>One past the last key row <paramref name="b"/> sees.</summary>
        public int End(int b) => Position(b) + 1;

        private int Start(int b) => window is int w ? Math.Max(0, Position(b) - w + 1) : 0;

        /// <summary>Computes (row, head) units [first, end): unit u is row u / heads, head u % heads.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TCache>(int first, int end) where TCache : struct, IWeightFormat
        {
            int group = heads / kvHeads;
            int longest = 0;
            for (int u = first; u < end; u++) longest = Math.Max(longest, End(u / heads));
            float* scores = (float*)ThreadScratch.Get((long)longest * sizeof(float));
            for (int u = first; u < end; u++)
            {
                int b = u / heads, h = u % heads, start = Start(b), stop = End(b);
                long head = ((long)(_firstRow + b) * kvHeads + h / group) * positions * headDim;
                byte* k = keys + head * elementSize, v = values + head * elementSize;
                float* q = query + (long)u * headDim, o = output + (long)u * headDim;

                float max = float.NegativeInfinity;
                for (int j = start; j < stop; j++)
                {
                    float s = Dot<TCache>(q, k + (long)j * headDim * elementSize, headDim) * scale;
                    scores[j] = s;
                    if (s > max) max = s;
                }
                float sum = 0;
                for (int j = start; j < stop; j++)
                {
                    float e = MathF.Exp(scores[j] - max);
                    scores[j] = e;
                    sum += e;
                }
                new Span<float>(o, headDim).Clear();
                float inverse = 1 / sum;
                for (int j = start; j < stop; j++) Accumulate<TCache>(o, v + (long)j * headDim * elementSize, scores[j] * inverse, headDim);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Dot<TCache>(float* q, byte* k, int length) where TCache : struct, IWeightFormat
        {
            var a = Vector256<float>.Zero;
            int i = 0;
            for (; i + 8 <= length; i += 8) a = Vector256.FusedMultiplyAdd(Vector256.Load(q + i), TCache.Load(k, i), a);
            float sum = Vector256.Sum(a);
            for (; i < length; i++) sum += q[i] * TCache.Scalar(k, i);
            return sum;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Accumulate<TCache>(float* o, byte* v, float weight, int length) where TCache : struct, IWeightFormat
        {
            var w = Vector256.Create(weight);
            int i = 0;
            for (; i + 8 <= length; i += 8) Vector256.FusedMultiplyAdd(TCache.Load(v, i), w, Vector256.Load(o + i)).Store(o + i);
            for (; i < length; i++) o[i] += weight * TCache.Scalar(v, i);
        }
    }
}
