using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GenAI.Core.Models.Kernels;

/// <summary>
/// A pinned buffer per thread that a kernel call reuses for its temporaries (padded or quantized rows of x), so a decode
/// step allocates nothing. The buffer grows to the largest request and stays; its contents are the caller's until its
/// next call on the same thread.
/// </summary>
internal static unsafe class ThreadScratch
{
    [ThreadStatic]
    private static byte[]? _buffer;

    /// <summary>At least <paramref name="bytes"/> bytes, 64-byte aligned.</summary>
    public static byte* Get(long bytes)
    {
        if (_buffer is null || _buffer.Length < bytes + 64)
        {
            _buffer = GC.AllocateUninitializedArray<byte>((int)Math.Min(int.MaxValue, Math.Max(bytes + 64, 2 * (long)(_buffer?.Length ?? 0))), pinned: true);
        }
        byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_buffer));
        return (byte*)(((nint)start + 63) & ~(nint)63);
    }
}
