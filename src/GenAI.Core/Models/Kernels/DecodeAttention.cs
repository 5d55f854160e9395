using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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
        && Avx.IsSupported && Vector256.IsHardwareAccelerated
        && !is_grad_enabled()
        && query.device_type == DeviceType.CPU
        && cachedKeys.dtype is ScalarType.Float32 or ScalarType.BFloat16
        && query.dtype == cachedKeys.dtype;

    /// <summary>
    /// True when <see cref="Write"/> can take this step's new keys and values: one token per row, CPU, the cache's dtype,
    /// no autograd, elements of a head contiguous (the views a decode step makes of its projections are).
    /// </summary>
    public static bool CanWrite(KvCacheStep step, Tensor keys, Tensor values, Tensor cachedKeys) =>
        step.NewTokens == 1
        && !is_grad_enabled()
        && keys.device_type == DeviceType.CPU && values.device_type == DeviceType.CPU
        && keys.dtype == cachedKeys.dtype && values.dtype == cachedKeys.dtype
        && Matches(keys, step, cachedKeys) && Matches(values, step, cachedKeys);

    // [batch, kv_heads, 1, head_dim] with the cache's heads and head size, a head's elements adjacent.
    private static bool Matches(Tensor t, KvCacheStep step, Tensor cache) =>
        t.dim() == 4 && t.size(0) == step.Batch && t.size(1) == cache.size(1) && t.size(2) == 1 && t.size(3) == cache.size(3) && t.stride(3) == 1;

    /// <summary>
    /// Copies each row's new key and value ([batch, kv_heads, 1, head_dim], any strides but the last) to its position in
    /// the cache tensors [rows, kv_heads, positions, head_dim] — what <see cref="KvCache.Write"/> does with two narrows and a
    /// copy per tensor (~6 libtorch calls a layer), as plain copies. Rows riding along (no new token) are left alone.
    /// </summary>
    public static unsafe void Write(Tensor keys, Tensor values, Tensor cachedKeys, Tensor cachedValues, KvCacheStep step)
    {
        int kvHeads = (int)cachedKeys.size(1), positions = (int)cachedKeys.size(2), headDim = (int)cachedKeys.size(3);
        long elementSize = cachedKeys.ElementSize, headBytes = headDim * elementSize;
        Copy(keys, (byte*)TensorMemory.Pointer(cachedKeys));
        Copy(values, (byte*)TensorMemory.Pointer(cachedValues));
        GC.KeepAlive(keys);
        GC.KeepAlive(values);
        GC.KeepAlive(cachedKeys);
        GC.KeepAlive(cachedValues);

        void Copy(Tensor source, byte* cache)
        {
            byte* first = (byte*)TensorMemory.Address(source); // element [0, 0, 0, 0] of the view
            long rowStride = source.stride(0) * elementSize, headStride = source.stride(1) * elementSize;
            for (int b = 0; b < step.Batch; b++)
            {
                if (step.TokensPerRow[b] == 0) continue;
                for (int h = 0; h < kvHeads; h++)
                {
                    byte* target = cache + (((long)(step.FirstRow + b) * kvHeads + h) * positions + step.Lengths[b]) * headBytes;
                    Buffer.MemoryCopy(first + b * rowStride + h * headStride, target, headBytes, headBytes);
                }
            }
        }
    }

    /// <summary>
    /// query [batch, heads, 1, head_dim] against rows <see cref="KvCacheStep.FirstRow"/>.. of the cache tensors
    /// [rows, kv_heads, positions, head_dim]; scores scaled by <paramref name="scale"/>. Returns [batch, 1, heads × head_dim]
    /// in the query's dtype (heads side by side, as the output projection takes them).
    /// </summary>
    public static unsafe Tensor Apply(Tensor query, Tensor cachedKeys, Tensor cachedValues, KvCacheStep step, double scale, int? window)
    {
        int batch = (int)query.size(0), heads = (int)query.size(1), headDim = (int)query.size(3);
        int kvHeads = (int)cachedKeys.size(1), positions = (int)cachedKeys.size(2);
        using var converted = TensorMemory.ContiguousFloat32(query);
        var output = empty([batch, 1, (long)heads * headDim], ScalarType.Float32);
        var job = new Job(
            (float*)TensorMemory.Pointer(converted ?? query), (float*)TensorMemory.Pointer(output),
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
        GC.KeepAlive(query);
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
            float* scores = (float*)ThreadScratch.Get((long)(longest + 8) * sizeof(float));
            long keyBytes = headDim * elementSize;
            for (int u = first; u < end; u++)
            {
                int b = u / heads, h = u % heads, start = Start(b), stop = End(b);
                long head = ((long)(_firstRow + b) * kvHeads + h / group) * positions * headDim;
                byte* k = keys + head * elementSize + start * keyBytes, v = values + head * elementSize + start * keyBytes;
                int span = stop - start;
                Scores<TCache>(query + (long)u * headDim, k, v, keyBytes, span, scores);
                float sum = Softmax(scores, span);
                WeightedSum<TCache>(scores, 1 / sum, v, keyBytes, span, output + (long)u * headDim);
            }
        }

        // Bytes ahead of the keys being scored that are requested. A step's weights have evicted the cache from every
        // cache level, and the hardware prefetcher alone left attention reading ~15 GB/s (a whole GPT-2-shaped step at
        // 512 positions: 1.2 → 1.0 ms).
        private const int KeyPrefetchDistance = 2048;

        // scores[j] = scale · q·k_j, four keys at a time so that one horizontal reduction serves four dot products. Also
        // requests the keys ahead and the values of the same positions, which WeightedSum reads next.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Scores<TCache>(float* q, byte* k, byte* v, long keyBytes, int span, float* scores) where TCache : struct, IWeightFormat
        {
            int vectorDim = headDim & ~7;
            var scaled = Vector128.Create(scale);
            int j = 0;
            for (; j + 4 <= span; j += 4, k += 4 * keyBytes, v += 4 * keyBytes)
            {
                byte* k1 = k + keyBytes, k2 = k1 + keyBytes, k3 = k2 + keyBytes;
                for (long line = 0; line < 4 * keyBytes; line += 64)
                {
                    Sse.Prefetch0(k + KeyPrefetchDistance + line);
                    Sse.Prefetch0(v + line);
                }
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int d = 0; d < vectorDim; d += 8)
                {
                    var qv = Vector256.Load(q + d);
                    a0 = Vector256.FusedMultiplyAdd(qv, TCache.Load(k, d), a0);
                    a1 = Vector256.FusedMultiplyAdd(qv, TCache.Load(k1, d), a1);
                    a2 = Vector256.FusedMultiplyAdd(qv, TCache.Load(k2, d), a2);
                    a3 = Vector256.FusedMultiplyAdd(qv, TCache.Load(k3, d), a3);
                }
                var pairs = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
                var sums = pairs.GetLower() + pairs.GetUpper();
                for (int d = vectorDim; d < headDim; d++)
                {
                    sums += Vector128.Create(TCache.Scalar(k, d), TCache.Scalar(k1, d), TCache.Scalar(k2, d), TCache.Scalar(k3, d)) * q[d];
                }
                (sums * scaled).Store(scores + j);
            }
            for (; j < span; j++, k += keyBytes)
            {
                var a = Vector256<float>.Zero;
                for (int d = 0; d < vectorDim; d += 8) a = Vector256.FusedMultiplyAdd(Vector256.Load(q + d), TCache.Load(k, d), a);
                float sum = Vector256.Sum(a);
                for (int d = vectorDim; d < headDim; d++) sum += q[d] * TCache.Scalar(k, d);
                scores[j] = sum * scale;
            }
        }

        // scores ← exp(scores − max); returns their sum.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Softmax(float* scores, int span)
        {
            var maxima = Vector256.Create(float.NegativeInfinity);
            int j = 0;
            for (; j + 8 <= span; j += 8) maxima = Vector256.Max(maxima, Vector256.Load(scores + j));
            float max = float.NegativeInfinity;
            for (int i = 0; i < 8; i++) max = Math.Max(max, maxima[i]);
            for (; j < span; j++) max = Math.Max(max, scores[j]);
            var shift = Vector256.Create(max);
            var sums = Vector256<float>.Zero;
            j = 0;
            for (; j + 8 <= span; j += 8)
            {
                var e = Vector256.Exp(Vector256.Load(scores + j) - shift);
                e.Store(scores + j);
                sums += e;
            }
            float sum = Vector256.Sum(sums);
            for (; j < span; j++)
            {
                float e = MathF.Exp(scores[j] - max);
                scores[j] = e;
                sum += e;
            }
            return sum;
        }

        // o = Σ_j weights[j]·v_j · normalizer, 32 dimensions at a time held in registers across all keys.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void WeightedSum<TCache>(float* weights, float normalizer, byte* v, long keyBytes, int span, float* o) where TCache : struct, IWeightFormat
        {
            var scaleBy = Vector256.Create(normalizer);
            int d = 0;
            for (; d + 32 <= headDim; d += 32)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                byte* row = v;
                for (int j = 0; j < span; j++, row += keyBytes)
                {
                    var p = Vector256.Create(weights[j]);
                    a0 = Vector256.FusedMultiplyAdd(TCache.Load(row, d), p, a0);
                    a1 = Vector256.FusedMultiplyAdd(TCache.Load(row, d + 8), p, a1);
                    a2 = Vector256.FusedMultiplyAdd(TCache.Load(row, d + 16), p, a2);
                    a3 = Vector256.FusedMultiplyAdd(TCache.Load(row, d + 24), p, a3);
                }
                (a0 * scaleBy).Store(o + d);
                (a1 * scaleBy).Store(o + d + 8);
                (a2 * scaleBy).Store(o + d + 16);
                (a3 * scaleBy).Store(o + d + 24);
            }
            for (; d + 8 <= headDim; d += 8)
            {
                var a = Vector256<float>.Zero;
                byte* row = v;
                for (int j = 0; j < span; j++, row += keyBytes) a = Vector256.FusedMultiplyAdd(TCache.Load(row, d), Vector256.Create(weights[j]), a);
                (a * scaleBy).Store(o + d);
            }
            for (; d < headDim; d++)
            {
                float a = 0;
                byte* row = v;
                for (int j = 0; j < span; j++, row += keyBytes) a += weights[j] * TCache.Scalar(row, d);
                o[d] = a * normalizer;
            }
        }
    }
}
