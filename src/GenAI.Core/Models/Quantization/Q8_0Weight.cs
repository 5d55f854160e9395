using System.Runtime.InteropServices;
using GenAI.Core.Models.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Quantization;

/// <summary>
/// A linear layer's weight [out, in] in llama.cpp's Q8_0 format, in memory only: each row is split into blocks of 32
/// consecutive input features, each block stored as int8 values with one float16 scale (34 bytes per 32 weights, 1.0625
/// bytes a weight). Rows are padded with zeros to whole blocks. The memory is its own (not libtorch's), so converting
/// or moving the model leaves it alone; it is freed by <see cref="Dispose"/>.
/// </summary>
public sealed unsafe class Q8_0Weight : IDisposable
{
    private sbyte* _values;
    private ushort* _scales;

    private Q8_0Weight(int outFeatures, int inFeatures)
    {
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        PaddedInFeatures = Q8_0.PaddedLength(inFeatures);
        Blocks = PaddedInFeatures / Q8_0.BlockSize;
        _values = (sbyte*)NativeMemory.AlignedAlloc((nuint)((long)outFeatures * PaddedInFeatures), 64);
        _scales = (ushort*)NativeMemory.AlignedAlloc((nuint)((long)outFeatures * Blocks * sizeof(ushort)), 64);
        GC.AddMemoryPressure(Bytes);
    }

    /// <summary>Output features (rows).</summary>
    public int OutFeatures { get; }

    /// <summary>Input features (columns).</summary>
    public int InFeatures { get; }

    /// <summary>Input features rounded up to whole blocks: the length of a stored row.</summary>
    public int PaddedInFeatures { get; }

    /// <summary>Blocks (scales) per row.</summary>
    public int Blocks { get; }

    /// <summary>Bytes held: int8 values and float16 scales.</summary>
    public long Bytes => (long)OutFeatures * PaddedInFeatures + (long)OutFeatures * Blocks * sizeof(ushort);

    /// <summary>The int8 values, [out, padded in] row-major.</summary>
    internal sbyte* Values => _values != null ? _values : throw new ObjectDisposedException(nameof(Q8_0Weight));

    /// <summary>The float16 scales (bits), [out, blocks] row-major.</summary>
    internal ushort* Scales => _scales != null ? _scales : throw new ObjectDisposedException(nameof(Q8_0Weight));

    /// <summary>Row <paramref name="row"/>'s int8 values (padded length).</summary>
    internal ReadOnlySpan<sbyte> ValueRow(int row) => new(Values + (long)row * PaddedInFeatures, PaddedInFeatures);

    /// <summary>Row <paramref name="row"/>'s float16 scales (bits), one a block.</summary>
    internal ReadOnlySpan<ushort> ScaleRow(int row) => new(Scales + (long)row * Blocks, Blocks);

    /// <summary>
    /// Quantizes <paramref name="weight"/> [out, in] (float32, bfloat16 or float16, on the CPU). Rows are converted to
    /// float32 a slice at a time, so a bfloat16 weight never exists in float32 whole.
    /// </summary>
    public static Q8_0Weight Quantize(Tensor weight)
    {
        if (weight.dim() != 2 || weight.device_type != DeviceType.CPU || !weight.is_floating_point())
        {
            throw new ArgumentException($"Q8_0 quantizes a 2-D floating-point CPU weight, not {weight.dtype} [{string.Join(", ", weight.shape)}] on {weight.device}", nameof(weight));
        }
        if (weight.shape[0] > int.MaxValue || weight.shape[1] > int.MaxValue / 2)
        {
            throw new ArgumentException($"weight [{string.Join(", ", weight.shape)}] is too large to quantize", nameof(weight));
        }
        int rows = (int)weight.shape[0], columns = (int)weight.shape[1];
        var result = new Q8_0Weight(rows, columns);
        try
        {
            int sliceRows = Math.Max(1, (1 << 22) / Math.Max(1, columns)); // ~16 MB of float32 at a time
            using var noGrad = no_grad();
            for (int first = 0; first < rows; first += sliceRows)
            {
                using var iteration = NewDisposeScope(); // each slice's temporaries go before the next
                int count = Math.Min(sliceRows, rows - first);
                var slice = weight.narrow(0, first, count).to(ScalarType.Float32).contiguous();
                float absMax = slice.abs().max().item<float>();
                if (!(absMax <= Q8_0.MaxAbsoluteValue))
                {
                    throw new ArgumentException($"weight values up to {absMax} do not fit Q8_0 (|value| <= {Q8_0.MaxAbsoluteValue}, finite)", nameof(weight));
                }
                nint source = (nint)TensorMemory.Pointer(slice);
                int sliceFirst = first;
                Parallel.For(0, count, r => result.QuantizeRow((float*)source + (long)r * columns, sliceFirst + r));
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private void QuantizeRow(float* source, long row)
    {
        float* scales = stackalloc float[Blocks];
        Q8_0.QuantizeRow(source, InFeatures, _values + row * PaddedInFeatures, scales);
        for (int b = 0; b < Blocks; b++) _scales[row * Blocks + b] = Q8_0.ToHalf(scales[b]);
    }

    /// <summary>The weight back in <paramref name="dtype"/> (float32 or bfloat16), [out, in]: q · d.</summary>
    public Tensor Dequantize(ScalarType dtype = ScalarType.Float32)
    {
        var output = empty([OutFeatures, InFeatures], dtype);
        DequantizeInto(0, OutFeatures, output);
        return output;
    }

    /// <summary>
    /// Writes rows [<paramref name="firstRow"/>, +<paramref name="rowCount"/>) dequantized into the start of the contiguous
    /// float32 or bfloat16 tensor <paramref name="destination"/> (row-major [rowCount, in]).
    /// </summary>
    internal void DequantizeInto(int firstRow, int rowCount, Tensor destination)
    {
        if (!destination.is_contiguous() || destination.numel() < (long)rowCount * InFeatures
            || destination.dtype is not (ScalarType.Float32 or ScalarType.BFloat16) || destination.device_type != DeviceType.CPU)
        {
            throw new ArgumentException($"destination must be a contiguous float32 or bfloat16 CPU tensor of at least {rowCount} x {InFeatures} elements", nameof(destination));
        }
        if (firstRow < 0 || rowCount < 0 || firstRow + rowCount > OutFeatures) throw new ArgumentOutOfRangeException(nameof(rowCount));
        nint target = (nint)TensorMemory.Pointer(destination);
        bool bfloat16 = destination.dtype == ScalarType.BFloat16;
        var workers = KernelThreads.Default;
        int parts = Math.Min(workers.MaxPartitions, Math.Max(1, rowCount / 64));
        workers.Run(parts, part =>
        {
            int begin = (int)((long)rowCount * part / parts), end = (int)((long)rowCount * (part + 1) / parts);
            for (int r = begin; r < end; r++)
            {
                long row = firstRow + r;
                if (bfloat16) Q8_0.DequantizeRow(_values + row * PaddedInFeatures, _scales + row * Blocks, InFeatures, (ushort*)target + (long)r * InFeatures);
                else Q8_0.DequantizeRow(_values + row * PaddedInFeatures, _scales + row * Blocks, InFeatures, (float*)target + (long)r * InFeatures);
            }
        });
    }

    /// <summary>Frees the memory.</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the memory if the owner never disposed it.</summary>
    ~Q8_0Weight() => Free();

    private void Free()
    {
        if (_values == null) return;
        NativeMemory.AlignedFree(_values);
        NativeMemory.AlignedFree(_scales);
        _values = null;
        _scales = null;
        GC.RemoveMemoryPressure(Bytes);
    }
}
