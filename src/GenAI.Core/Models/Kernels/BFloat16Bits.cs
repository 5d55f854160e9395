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

    /// <summary><paramref name="value"/> rounded to the nearest bfloat16, as a float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Round(float value) => ToSingle(From(value));
}
