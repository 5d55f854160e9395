using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GenAI.Core.Models.Kernels;

/// <summary>
/// How the decode kernels read a weight element type into float32 registers. The kernels are generic over it, so
/// each format gets its own specialized machine code with the load inlined.
/// </summary>
internal unsafe interface IWeightFormat
{
    /// <summary>Bytes per element.</summary>
    static abstract int Size { get; }

    /// <summary>Eight consecutive elements from <paramref name="row"/>[<paramref name="k"/>] as floats.</summary>
    static abstract Vector256<float> Load(void* row, int k);

    /// <summary>Sixteen consecutive elements from <paramref name="row"/>[<paramref name="k"/>] as floats.</summary>
    static abstract Vector512<float> Load512(void* row, int k);

    /// <summary>Element <paramref name="k"/> of <paramref name="row"/> as a float.</summary>
    static abstract float Scalar(void* row, int k);
}

/// <summary>float32 weights.</summary>
internal readonly unsafe struct Float32Weights : IWeightFormat
{
    public static int Size => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(void* row, int k) => Vector256.Load((float*)row + k);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(void* row, int k) => Vector512.Load((float*)row + k);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scalar(void* row, int k) => ((float*)row)[k];
}

/// <summary>
/// bfloat16 weights: the upper half of a float32, so widening each 16-bit value and shifting it left by 16 is the
/// exact conversion. Half the bytes of float32 cross the memory bus, which is what bounds decoding.
/// </summary>
internal readonly unsafe struct BFloat16Weights : IWeightFormat
{
    public static int Size => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(void* row, int k) =>
        Vector256.ShiftLeft(Vector256.WidenLower(Vector128.Load((ushort*)row + k).ToVector256Unsafe()), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(void* row, int k) =>
        Vector512.ShiftLeft(Vector512.WidenLower(Vector256.Load((ushort*)row + k).ToVector512Unsafe()), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scalar(void* row, int k) => BitConverter.Int32BitsToSingle(((ushort*)row)[k] << 16);
}
