using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Kernels;

/// <summary>The address of a CPU tensor's elements, for kernels that read and write them directly.</summary>
/// <remarks>
/// Two native calls: TorchSharp's <c>Tensor.bytes</c> makes five (element count and size, contiguity, device, data) and
/// stops at 2 GiB, and a decode step takes the address of ~4 tensors per projection, hundreds of times.
/// </remarks>
internal static unsafe partial class TensorMemory
{
    /// <summary>The first element of <paramref name="tensor"/> (contiguous, on the CPU: the caller checks the device); valid while the tensor lives.</summary>
    public static void* Pointer(Tensor tensor)
    {
        if (!tensor.is_contiguous()) throw new ArgumentException("a kernel's tensor must be contiguous", nameof(tensor));
        return Address(tensor);
    }

    /// <summary>
    /// The first element of <paramref name="tensor"/>, any strides (the caller walks them; on the CPU: the caller checks);
    /// valid while the tensor lives.
    /// </summary>
    public static void* Address(Tensor tensor)
    {
        void* data = THSTensor_data(tensor.Handle);
        if (data == null && tensor.numel() != 0) throw new InvalidOperationException("libtorch gave no address for the tensor's elements");
        return data;
    }

    /// <summary>
    /// <paramref name="tensor"/>'s sizes, one native call each (<c>Tensor.shape</c> builds its array through a reverse
    /// P/Invoke, ~0.45 µs, on every read).
    /// </summary>
    public static long[] Shape(Tensor tensor)
    {
        var shape = new long[tensor.dim()];
        for (int d = 0; d < shape.Length; d++) shape[d] = tensor.size(d);
        return shape;
    }

    /// <summary>
    /// A contiguous float32 copy of <paramref name="tensor"/>, or null when it already is one (use it as it is). Each new
    /// tensor costs microseconds of handles and bookkeeping, and a decode step makes hundreds of kernel calls.
    /// </summary>
    public static Tensor? ContiguousFloat32(Tensor tensor)
    {
        if (tensor.dtype == ScalarType.Float32) return tensor.is_contiguous() ? null : tensor.contiguous();
        var converted = tensor.to(ScalarType.Float32);
        if (converted.is_contiguous()) return converted;
        using (converted) return converted.contiguous();
    }

    // TorchSharp's own native library (already loaded by TorchSharp): at::Tensor::data_ptr(), which neither blocks nor
    // calls back into the runtime.
    [LibraryImport("LibTorchSharp")]
    [SuppressGCTransition]
    private static partial void* THSTensor_data(IntPtr tensor);
}
