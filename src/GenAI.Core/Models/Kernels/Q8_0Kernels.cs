using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GenAI.Core.Models.Quantization;

namespace GenAI.Core.Models.Kernels;

/// <summary>
/// The portable int8 × float32 path: each block's 32 int8 weights are widened and converted to float32 in registers and
/// multiplied with float32 x; the block's scale is applied once per block. x rows are <see cref="Q8_0Weight.PaddedInFeatures"/>
/// long (zeros past the input features). Same tiling as the float kernels: 4 weight rows × 4 rows of x where there are
/// four rows of x, else one weight row at a time.
/// </summary>
internal readonly unsafe struct Q8_0FloatJob(float* x, Q8_0Weight weight, float* bias, float* y, int rows)
{
    private readonly sbyte* _values = weight.Values;
    private readonly ushort* _halfScales = weight.Scales;
    private readonly int _length = weight.PaddedInFeatures;
    private readonly int _blocks = weight.Blocks;
    private readonly int _outFeatures = weight.OutFeatures;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(int firstOut, int endOut)
    {
        // The scales of (up to) four weight rows as float32, block-major: scales[4b + j] for row n + j.
        float* scales = stackalloc float[4 * _blocks];
        for (int n = firstOut; n < endOut; n += 4)
        {
            int count = Math.Min(4, endOut - n);
            for (int j = 0; j < count; j++)
            {
                ushort* h = _halfScales + (long)(n + j) * _blocks;
                for (int b = 0; b < _blocks; b++) scales[4 * b + j] = Q8_0.FromHalf(h[b]);
            }
            int m = 0;
            if (count == 4)
            {
                for (; m + 4 <= rows; m += 4) Tile4x4(n, m, scales);
            }
            else
            {
                for (int j = 0; j < count; j++)
                    for (int mm = m; mm + 4 <= rows; mm += 4) Dot4(n + j, mm, scales + j);
                m = rows / 4 * 4;
            }
            for (; m < rows; m++)
                for (int j = 0; j < count; j++)
                    y[(long)m * _outFeatures + n + j] = Dot1(_values + (long)(n + j) * _length, scales + j, x + (long)m * _length, _blocks);
        }
        if (bias is not null)
        {
            for (int m = 0; m < rows; m++)
                for (int j = firstOut; j < endOut; j++) y[(long)m * _outFeatures + j] += bias[j];
        }
    }

    /// <summary>One weight row against one row of x; <paramref name="scales"/> has a stride of 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot1(sbyte* w, float* scales, float* x, int blocks)
    {
        Vector256<float> a0 = default, a1 = default;
        int b = 0;
        for (; b + 2 <= blocks; b += 2, w += 64, x += 64)
        {
            WeightPrefetch.Line(w);
            a0 = Vector256.FusedMultiplyAdd(Block(w, x), Vector256.Create(scales[4 * b]), a0);
            a1 = Vector256.FusedMultiplyAdd(Block(w + 32, x + 32), Vector256.Create(scales[4 * b + 4]), a1);
        }
        if (b < blocks) a0 = Vector256.FusedMultiplyAdd(Block(w, x), Vector256.Create(scales[4 * b]), a0);
        return Vector256.Sum(a0 + a1);
    }

    /// <summary>The unscaled products of one block, in eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Block(sbyte* w, float* x)
    {
        var t = Q8_0.Widen8(w) * Vector256.Load(x);
        t = Vector256.FusedMultiplyAdd(Q8_0.Widen8(w + 8), Vector256.Load(x + 8), t);
        t = Vector256.FusedMultiplyAdd(Q8_0.Widen8(w + 16), Vector256.Load(x + 16), t);
        return Vector256.FusedMultiplyAdd(Q8_0.Widen8(w + 24), Vector256.Load(x + 24), t);
    }

    /// <summary>Weight row <paramref name="n"/> against rows m..m+3 of x; each dequantized vector feeds four FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Dot4(int n, int m, float* scales)
    {
        sbyte* w = _values + (long)n * _length;
        float* x0 = x + (long)m * _length, x1 = x0 + _length, x2 = x1 + _length, x3 = x2 + _length;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int k = 0; k < _length; k += 8)
        {
            if ((k & 63) == 0) WeightPrefetch.Line(w + k);
            var u = Q8_0.Widen8(w + k) * Vector256.Create(scales[(k >> 3) & ~3]);
            a0 = Vector256.FusedMultiplyAdd(u, Vector256.Load(x0 + k), a0);
            a1 = Vector256.FusedMultiplyAdd(u, Vector256.Load(x1 + k), a1);
            a2 = Vector256.FusedMultiplyAdd(u, Vector256.Load(x2 + k), a2);
            a3 = Vector256.FusedMultiplyAdd(u, Vector256.Load(x3 + k), a3);
        }
        float* r = y + (long)m * _outFeatures + n;
        r[0] = Vector256.Sum(a0);
        r[_outFeatures] = Vector256.Sum(a1);
        r[2L * _outFeatures] = Vector256.Sum(a2);
        r[3L * _outFeatures] = Vector256.Sum(a3);
    }

    /// <summary>Weight rows n..n+3 against rows m..m+3 of x: sixteen accumulators, each dequantized vector feeds four FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tile4x4(int n, int m, float* scales)
    {
        sbyte* w0 = _values + (long)n * _length, w1 = w0 + _length, w2 = w1 + _length, w3 = w2 + _length;
        float* x0 = x + (long)m * _length, x1 = x0 + _length, x2 = x1 + _length, x3 = x2 + _length;
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector256<float> a30 = default, a31 = default, a32 = default, a33 = default;
        for (int k = 0; k < _length; k += 8)
        {
            if ((k & 63) == 0) WeightPrefetch.NextTile(w0, _length, k);
            float* s = scales + ((k >> 3) & ~3);
            var p0 = Vector256.Load(x0 + k);
            var p1 = Vector256.Load(x1 + k);
            var p2 = Vector256.Load(x2 + k);
            var p3 = Vector256.Load(x3 + k);
            var u = Q8_0.Widen8(w0 + k) * Vector256.Create(s[0]);
            a00 = Vector256.FusedMultiplyAdd(u, p0, a00); a01 = Vector256.FusedMultiplyAdd(u, p1, a01);
            a02 = Vector256.FusedMultiplyAdd(u, p2, a02); a03 = Vector256.FusedMultiplyAdd(u, p3, a03);
            u = Q8_0.Widen8(w1 + k) * Vector256.Create(s[1]);
            a10 = Vector256.FusedMultiplyAdd(u, p0, a10); a11 = Vector256.FusedMultiplyAdd(u, p1, a11);
            a12 = Vector256.FusedMultiplyAdd(u, p2, a12); a13 = Vector256.FusedMultiplyAdd(u, p3, a13);
            u = Q8_0.Widen8(w2 + k) * Vector256.Create(s[2]);
            a20 = Vector256.FusedMultiplyAdd(u, p0, a20); a21 = Vector256.FusedMultiplyAdd(u, p1, a21);
            a22 = Vector256.FusedMultiplyAdd(u, p2, a22); a23 = Vector256.FusedMultiplyAdd(u, p3, a23);
            u = Q8_0.Widen8(w3 + k) * Vector256.Create(s[3]);
            a30 = Vector256.FusedMultiplyAdd(u, p0, a30); a31 = Vector256.FusedMultiplyAdd(u, p1, a31);
            a32 = Vector256.FusedMultiplyAdd(u, p2, a32); a33 = Vector256.FusedMultiplyAdd(u, p3, a33);
        }
        TileSums.Store4x4(y + (long)m * _outFeatures + n, _outFeatures, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
    }
}

/// <summary>
/// The int8 × int8 path (AVX-VNNI), as llama.cpp's Q8_0 × Q8_0 dot product: the rows of x are quantized to Q8_0 once
/// per call (<see cref="QuantizeActivations"/>), and each block's 32 products are summed in int32 by <c>vpdpbusd</c>,
/// which multiplies unsigned by signed bytes: |x| times the weight carrying x's sign (<c>vpsignb</c>). The int32 sum is
/// converted and scaled once per block by d_w · d_x.
/// </summary>
internal readonly unsafe struct Q8_0VnniJob(byte* x, float* xScales, Q8_0Weight weight, float* bias, float* y, int rows)
{
    private readonly sbyte* _values = weight.Values;
    private readonly ushort* _halfScales = weight.Scales;
    private readonly int _length = weight.PaddedInFeatures;
    private readonly int _blocks = weight.Blocks;
    private readonly int _outFeatures = weight.OutFeatures;

    /// <summary>Bytes of one quantized row of x: per block, 32 bytes of |q| then 32 bytes of q.</summary>
    public static long RowBytes(Q8_0Weight weight) => 2L * weight.PaddedInFeatures;

    /// <summary>
    /// Quantizes <paramref name="rows"/> rows of <paramref name="x"/> (each the weight's input features long) into
    /// <paramref name="quantized"/> (<see cref="RowBytes"/> a row) and their scales (blocks a row).
    /// </summary>
    public static void QuantizeActivations(float* x, int rows, Q8_0Weight weight, byte* quantized, float* scales)
    {
        sbyte* q = stackalloc sbyte[Q8_0.BlockSize];
        float* padded = stackalloc float[Q8_0.BlockSize];
        int inFeatures = weight.InFeatures, full = inFeatures / Q8_0.BlockSize;
        for (int m = 0; m < rows; m++)
        {
            float* row = x + (long)m * inFeatures;
            byte* target = quantized + m * RowBytes(weight);
            for (int b = 0; b < weight.Blocks; b++)
            {
                float* source = row + b * Q8_0.BlockSize;
                if (b == full)
                {
                    // the partial last block, padded with zeros
                    new Span<float>(padded, Q8_0.BlockSize).Clear();
                    new ReadOnlySpan<float>(source, inFeatures - full * Q8_0.BlockSize).CopyTo(new Span<float>(padded, Q8_0.BlockSize));
                    source = padded;
                }
                scales[(long)m * weight.Blocks + b] = Q8_0.QuantizeBlock(source, q);
                var v = Vector256.Load(q);
                Vector256.Abs(v).AsByte().Store(target + 64 * b);
                v.AsByte().Store(target + 64 * b + 32);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(int firstOut, int endOut)
    {
        // Combined scales d_w · d_x: [16 blocks-major] for a 4 × 4 tile, [blocks] for one pair.
        float* combined = stackalloc float[16 * _blocks];
        int n = firstOut;
        if (rows >= 4)
        {
            for (; n + 4 <= endOut; n += 4)
            {
                int m = 0;
                for (; m + 4 <= rows; m += 4) Tile4x4(n, m, combined);
                for (; m < rows; m++)
                    for (int j = 0; j < 4; j++) y[(long)m * _outFeatures + n + j] = Dot1(n + j, m, combined);
            }
        }
        for (; n < endOut; n++)
            for (int m = 0; m < rows; m++) y[(long)m * _outFeatures + n] = Dot1(n, m, combined);
        if (bias is not null)
        {
            for (int m = 0; m < rows; m++)
                for (int j = firstOut; j < endOut; j++) y[(long)m * _outFeatures + j] += bias[j];
        }
    }

    /// <summary>The int32 dot product of one block (32 weights against |x| and sign(x) at <paramref name="xBlock"/>), as floats in eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Block(Vector256<sbyte> w, byte* xBlock) =>
        Vector256.ConvertToSingle(AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Vector256.Load(xBlock), Avx2.Sign(w, Vector256.Load((sbyte*)xBlock + 32))));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float Dot1(int n, int m, float* combined)
    {
        sbyte* w = _values + (long)n * _length;
        ushort* h = _halfScales + (long)n * _blocks;
        float* d = xScales + (long)m * _blocks;
        int b = 0;
        for (; b + 8 <= _blocks; b += 8) (Q8_0.FromHalf8(h + b) * Vector256.Load(d + b)).Store(combined + b);
        for (; b < _blocks; b++) combined[b] = Q8_0.FromHalf(h[b]) * d[b];
        byte* p = x + m * 2L * _length;
        Vector256<float> a0 = default, a1 = default;
        b = 0;
        for (; b + 2 <= _blocks; b += 2, w += 64, p += 128)
        {
            WeightPrefetch.Line(w);
            a0 = Vector256.FusedMultiplyAdd(Block(Vector256.Load(w), p), Vector256.Create(combined[b]), a0);
            a1 = Vector256.FusedMultiplyAdd(Block(Vector256.Load(w + 32), p + 64), Vector256.Create(combined[b + 1]), a1);
        }
        if (b < _blocks) a0 = Vector256.FusedMultiplyAdd(Block(Vector256.Load(w), p), Vector256.Create(combined[b]), a0);
        return Vector256.Sum(a0 + a1);
    }

    /// <summary>Weight rows n..n+3 against rows m..m+3 of x; each weight block is loaded once for four rows of x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tile4x4(int n, int m, float* combined)
    {
        for (int b = 0; b < _blocks; b++)
        {
            var d = Vector128.Create(xScales[(long)m * _blocks + b], xScales[(long)(m + 1) * _blocks + b],
                                     xScales[(long)(m + 2) * _blocks + b], xScales[(long)(m + 3) * _blocks + b]);
            for (int j = 0; j < 4; j++) (d * Q8_0.FromHalf(_halfScales[(long)(n + j) * _blocks + b])).Store(combined + 16 * b + 4 * j);
        }
        sbyte* w0 = _values + (long)n * _length, w1 = w0 + _length, w2 = w1 + _length, w3 = w2 + _length;
        long stride = 2L * _length;
        byte* x0 = x + m * stride, x1 = x0 + stride, x2 = x1 + stride, x3 = x2 + stride;
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector256<float> a30 = default, a31 = default, a32 = default, a33 = default;
        float* c = combined;
        for (int k = 0; k < _length; k += 32, c += 16)
        {
            if ((k & 63) == 0) WeightPrefetch.NextTile(w0, _length, k);
            var v0 = Vector256.Load(w0 + k);
            var v1 = Vector256.Load(w1 + k);
            var v2 = Vector256.Load(w2 + k);
            var v3 = Vector256.Load(w3 + k);
            byte* p = x0 + 2 * k;
            a00 = Vector256.FusedMultiplyAdd(Block(v0, p), Vector256.Create(c[0]), a00);
            a10 = Vector256.FusedMultiplyAdd(Block(v1, p), Vector256.Create(c[4]), a10);
            a20 = Vector256.FusedMultiplyAdd(Block(v2, p), Vector256.Create(c[8]), a20);
            a30 = Vector256.FusedMultiplyAdd(Block(v3, p), Vector256.Create(c[12]), a30);
            p = x1 + 2 * k;
            a01 = Vector256.FusedMultiplyAdd(Block(v0, p), Vector256.Create(c[1]), a01);
            a11 = Vector256.FusedMultiplyAdd(Block(v1, p), Vector256.Create(c[5]), a11);
            a21 = Vector256.FusedMultiplyAdd(Block(v2, p), Vector256.Create(c[9]), a21);
            a31 = Vector256.FusedMultiplyAdd(Block(v3, p), Vector256.Create(c[13]), a31);
            p = x2 + 2 * k;
            a02 = Vector256.FusedMultiplyAdd(Block(v0, p), Vector256.Create(c[2]), a02);
            a12 = Vector256.FusedMultiplyAdd(Block(v1, p), Vector256.Create(c[6]), a12);
            a22 = Vector256.FusedMultiplyAdd(Block(v2, p), Vector256.Create(c[10]), a22);
            a32 = Vector256.FusedMultiplyAdd(Block(v3, p), Vector256.Create(c[14]), a32);
            p = x3 + 2 * k;
            a03 = Vector256.FusedMultiplyAdd(Block(v0, p), Vector256.Create(c[3]), a03);
            a13 = Vector256.FusedMultiplyAdd(Block(v1, p), Vector256.Create(c[7]), a13);
            a23 = Vector256.FusedMultiplyAdd(Block(v2, p), Vector256.Create(c[11]), a23);
            a33 = Vector256.FusedMultiplyAdd(Block(v3, p), Vector256.Create(c[15]), a33);
        }
        TileSums.Store4x4(y + (long)m * _outFeatures + n, _outFeatures, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
    }
}
