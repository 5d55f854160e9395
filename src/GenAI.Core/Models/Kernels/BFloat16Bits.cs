using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GenAI.Core.Models.Kernels;

/// <summary>float32 ↔ bfloat16 bit conversions as libtorch does them (round to nearest even), for kernels that write bfloat16.</summary>
internal static class BFloat16Bits
{
    /// <summary>The bfloat16 bits of <paramref name="value"/>, rounded to nearest even (finite values).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort From(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>bfloat16 bits (in the low half of each lane) of eight floats, rounded to nearest even (finite values).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> From(Vector256<float> values)
    {
        var bits = values.AsUInt32();
        return (bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One)) >> 16;
    }

    /// <summary>The float32 value of bfloat16 <paramref name="bits"/> (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>The float32 values of <paramref name="count"/> bfloat16 elements (exact).</summary>
    public static unsafe void ToSingles(ushort* source, float* destination, long count)
    {
        long i = 0;
        for (; i + 8 <= count; i += 8) BFloat16Weights.Load(source + i, 0).Store(destination + i);
        for (; i < count; i++) destination[i] = ToSingle(source[i]);
    }

    /// <summary><paramref name="count"/> floats as bfloat16, rounded to nearest even as libtorch's conversion (NaN stays NaN).</summary>
    public static unsafe void FromSingles(float* source, ushort* destination, long count)
    {
        long i = 0;
        var quietNaN = Vector256.Create(0x7FC0u);
        for (; i + 8 <= count; i += 8)
        {
            var values = Vector256.Load(source + i);
            var bits = Vector256.ConditionalSelect(Vector256.Equals(values, values).AsUInt32(), From(values), quietNaN);
            Vector256.Narrow(bits, bits).GetLower().Store(destination + i);
        }
        for (; i < count; i++) destination[i] = float.IsNaN(source[i]) ? (ushort)0x7FC0 : From(source[i]);
    }

    /// <summary><paramref name="value"/> rounded to the nearest bfloat16, as a float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Round(float value) => ToSingle(From(value));
}
