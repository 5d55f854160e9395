using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using GenAI.Core.Models.Kernels;

namespace GenAI.Core.Models.Quantization;

/// <summary>
/// llama.cpp's Q8_0 block arithmetic: 32 consecutive values share one scale d = absmax / 127 and are stored as
/// round(v / d) in int8 (quantize_row_q8_0_ref: the values are multiplied by 1/d in float32 and rounded half away from
/// zero; d is kept as float16). Weights and, on the VNNI path, the activations of a decode step are quantized here.
/// </summary>
internal static unsafe class Q8_0
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 32;

    /// <summary>Largest scale float16 holds (65504), so the largest |value| a block may hold is 127 times that.</summary>
    public const float MaxAbsoluteValue = 65504f * 127f;

    // 2^112: float16 bits shifted into float32's place have an exponent 112 too small.
    private const float HalfRebase = 5.192296858534828e33f;

    /// <summary><paramref name="length"/> rounded up to whole blocks.</summary>
    public static int PaddedLength(int length) => (length + BlockSize - 1) / BlockSize * BlockSize;

    /// <summary>
    /// Quantizes <paramref name="length"/> floats into <see cref="PaddedLength"/> int8 values (a partial last block is
    /// padded with zeros) and one float32 scale per block.
    /// </summary>
    public static void QuantizeRow(float* x, int length, sbyte* q, float* scales)
    {
        int full = length / BlockSize;
        for (int b = 0; b < full; b++) scales[b] = QuantizeBlock(x + b * BlockSize, q + b * BlockSize);
        int rest = length - full * BlockSize;
        if (rest > 0)
        {
            float* padded = stackalloc float[BlockSize];
            new Span<float>(padded, BlockSize).Clear();
            new ReadOnlySpan<float>(x + full * BlockSize, rest).CopyTo(new Span<float>(padded, rest));
            scales[full] = QuantizeBlock(padded, q + full * BlockSize);
        }
    }

    /// <summary>Quantizes 32 floats; returns their scale d (float32, before any rounding to float16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float QuantizeBlock(float* x, sbyte* q)
    {
        var v0 = Vector256.Load(x);
        var v1 = Vector256.Load(x + 8);
        var v2 = Vector256.Load(x + 16);
        var v3 = Vector256.Load(x + 24);
        var max = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
        var m = Vector128.Max(max.GetLower(), max.GetUpper());
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        float d = m.ToScalar() / 127;
        var inverse = Vector256.Create(d != 0 ? 1.0f / d : 0.0f);
        var low = Vector256.Narrow(RoundToInt(v0 * inverse), RoundToInt(v1 * inverse));
        var high = Vector256.Narrow(RoundToInt(v2 * inverse), RoundToInt(v3 * inverse));
        Vector256.Narrow(low, high).Store(q);
        return d;
    }

    /// <summary>Round half away from zero (C's roundf): round to nearest even, except that exact halves move outward.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> RoundToInt(Vector256<float> v)
    {
        var truncated = Vector256.Truncate(v);
        var tie = Vector256.Equals(Vector256.Abs(v - truncated), Vector256.Create(0.5f));
        var rounded = Vector256.ConditionalSelect(tie, truncated + Vector256.CopySign(Vector256<float>.One, v), Vector256.Round(v));
        return Vector256.ConvertToInt32(rounded);
    }

    /// <summary>A scale rounded to float16, as the weights keep it.</summary>
    public static ushort ToHalf(float d) => BitConverter.HalfToUInt16Bits((Half)d);

    /// <summary>A non-negative finite float16 scale as float32 (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FromHalf(ushort h) => BitConverter.Int32BitsToSingle(h << 13) * HalfRebase;

    /// <summary>Eight non-negative finite float16 scales as float32 (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FromHalf8(ushort* h) =>
        Vector256.ShiftLeft(Vector256.WidenLower(Vector128.Load(h).ToVector256Unsafe()), 13).AsSingle() * Vector256.Create(HalfRebase);

    /// <summary><paramref name="count"/> float16 scales as float32.</summary>
    public static void FromHalf(ushort* h, float* d, int count)
    {
        int i = 0;
        for (; i + 8 <= count; i += 8) FromHalf8(h + i).Store(d + i);
        for (; i < count; i++) d[i] = FromHalf(h[i]);
    }

    /// <summary>Eight int8 values as float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen8(sbyte* q)
    {
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            return Vector256.ConvertToSingle(System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(q));
        }
        var shorts = Vector128.WidenLower(Vector128.CreateScalarUnsafe(*(long*)q).AsSByte());
        return Vector256.ConvertToSingle(Vector256.Create(Vector128.WidenLower(shorts), Vector128.WidenUpper(shorts)));
    }

    /// <summary>One row of <paramref name="length"/> values back to float32: q · d.</summary>
    public static void DequantizeRow(sbyte* q, ushort* scales, int length, float* y)
    {
        int full = length / BlockSize;
        for (int b = 0; b < full; b++, q += BlockSize, y += BlockSize)
        {
            var d = Vector256.Create(FromHalf(scales[b]));
            (Widen8(q) * d).Store(y);
            (Widen8(q + 8) * d).Store(y + 8);
            (Widen8(q + 16) * d).Store(y + 16);
            (Widen8(q + 24) * d).Store(y + 24);
        }
        for (int k = 0; k < length - full * BlockSize; k++) y[k] = q[k] * FromHalf(scales[full]);
    }

    /// <summary>One row back to bfloat16 (q · d in float32, rounded to nearest even).</summary>
    public static void DequantizeRow(sbyte* q, ushort* scales, int length, ushort* y)
    {
        int full = length / BlockSize;
        for (int b = 0; b < full; b++, q += BlockSize, y += BlockSize)
        {
            var d = Vector256.Create(FromHalf(scales[b]));
            for (int k = 0; k < BlockSize; k += 16)
            {
                Vector256.Narrow(BFloat16Bits.From(Widen8(q + k) * d), BFloat16Bits.From(Widen8(q + k + 8) * d)).Store(y + k);
            }
        }
        for (int k = 0; k < length - full * BlockSize; k++)
        {
            y[k] = BFloat16Bits.From(q[k] * FromHalf(scales[full]));
        }
    }
}
