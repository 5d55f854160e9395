using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenAI.Core.Models.Kernels;

/// <summary>
/// The horizontal sums that end a 4 × 4 tile (four weight rows against four rows of x, one vector accumulator per
/// pair), four at a time: one reduction tree serves four outputs, where summing each accumulator alone cost as many
/// instructions as a 768-long row's multiply-adds did at batch 8.
/// </summary>
internal static unsafe class TileSums
{
    /// <summary>[Σa, Σb, Σc, Σd].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sum4(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
    {
        if (!Avx.IsSupported) return Vector128.Create(Vector256.Sum(a), Vector256.Sum(b), Vector256.Sum(c), Vector256.Sum(d));
        var pairs = Avx.HorizontalAdd(Avx.HorizontalAdd(a, b), Avx.HorizontalAdd(c, d));
        return pairs.GetLower() + pairs.GetUpper();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fold(Vector512<float> a) => a.GetLower() + a.GetUpper();

    /// <summary>
    /// Writes the tile: y[m·stride + n] = Σ a(n)(m) for weight rows n and x rows m in 0..3 (aNM: weight row N, x row M).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store4x4(float* y, int stride,
        Vector256<float> a00, Vector256<float> a01, Vector256<float> a02, Vector256<float> a03,
        Vector256<float> a10, Vector256<float> a11, Vector256<float> a12, Vector256<float> a13,
        Vector256<float> a20, Vector256<float> a21, Vector256<float> a22, Vector256<float> a23,
        Vector256<float> a30, Vector256<float> a31, Vector256<float> a32, Vector256<float> a33)
    {
        Sum4(a00, a10, a20, a30).Store(y);
        Sum4(a01, a11, a21, a31).Store(y + stride);
        Sum4(a02, a12, a22, a32).Store(y + 2L * stride);
        Sum4(a03, a13, a23, a33).Store(y + 3L * stride);
    }

    /// <inheritdoc cref="Store4x4(float*, int, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store4x4(float* y, int stride,
        Vector512<float> a00, Vector512<float> a01, Vector512<float> a02, Vector512<float> a03,
        Vector512<float> a10, Vector512<float> a11, Vector512<float> a12, Vector512<float> a13,
        Vector512<float> a20, Vector512<float> a21, Vector512<float> a22, Vector512<float> a23,
        Vector512<float> a30, Vector512<float> a31, Vector512<float> a32, Vector512<float> a33) =>
        Store4x4(y, stride, Fold(a00), Fold(a01), Fold(a02), Fold(a03), Fold(a10), Fold(a11), Fold(a12), Fold(a13),
            Fold(a20), Fold(a21), Fold(a22), Fold(a23), Fold(a30), Fold(a31), Fold(a32), Fold(a33));
}
