using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Kernels;

/// <summary>The address of a CPU tensor's elements, for kernels that read and write them directly.</summary>
internal static unsafe class TensorMemory
{
    /// <summary>The first element of <paramref name="tensor"/> (contiguous, on the CPU); valid while the tensor lives.</summary>
    public static void* Pointer(Tensor tensor) => Unsafe.AsPointer(ref MemoryMarshal.GetReference(tensor.bytes));
}
