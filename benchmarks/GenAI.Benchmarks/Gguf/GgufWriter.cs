using System.Text;
using static TorchSharp.torch;

namespace GenAI.Benchmarks.Gguf;

/// <summary>
/// A GGUF v3 file, assembled and then written in one pass as llama.cpp reads it (ggml's gguf.cpp, gguf-py's
/// <c>GGUFWriter</c>): the header (magic, version, tensor and key/value counts), the metadata key/values, the tensor
/// infos (name, dimensions innermost first, type, offset into the data section), padding to the alignment, then each
/// tensor's data at an aligned offset. Tensor data is produced lazily, one tensor at a time, when the file is written.
/// </summary>
internal sealed class GgufWriter
{
    /// <summary>"GGUF" read as a little-endian 32-bit integer.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>The file format version llama.cpp writes since 2023.</summary>
    public const uint Version = 3;

    /// <summary>The default <c>general.alignment</c> of tensor data.</summary>
    public const int Alignment = 32;

    private readonly List<(string Key, Action<BinaryWriter> WriteValue)> _metadata = [];
    private readonly List<TensorEntry> _tensors = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    private sealed record TensorEntry(string Name, long[] Shape, GgmlType Type, Func<Tensor> Data)
    {
        public long ByteCount => Shape.Aggregate(1L, (a, b) => a * b) * ElementSize(Type);
    }

    public void AddString(string key, string value) => Add(key, w =>
    {
        w.Write((uint)GgufValueType.String);
        WriteString(w, value);
    });

    public void AddUInt32(string key, uint value) => Add(key, w =>
    {
        w.Write((uint)GgufValueType.UInt32);
        w.Write(value);
    });

    public void AddFloat32(string key, float value) => Add(key, w =>
    {
        w.Write((uint)GgufValueType.Float32);
        w.Write(value);
    });

    public void AddBool(string key, bool value) => Add(key, w =>
    {
        w.Write((uint)GgufValueType.Bool);
        w.Write((byte)(value ? 1 : 0));
    });

    public void AddStringArray(string key, IReadOnlyList<string> values) => Add(key, w =>
    {
        WriteArrayHeader(w, GgufValueType.String, values.Count);
        foreach (string value in values) WriteString(w, value);
    });

    public void AddInt32Array(string key, IReadOnlyList<int> values) => Add(key, w =>
    {
        WriteArrayHeader(w, GgufValueType.Int32, values.Count);
        foreach (int value in values) w.Write(value);
    });

    /// <summary>
    /// Adds a tensor. <paramref name="shape"/> is row-major, outermost first, as PyTorch and numpy give it (the file
    /// stores it reversed, as GGML's <c>ne</c>); <paramref name="data"/> yields a contiguous CPU tensor of that shape in
    /// <paramref name="type"/>'s dtype when the file is written.
    /// </summary>
    public void AddTensor(string name, long[] shape, GgmlType type, Func<Tensor> data)
    {
        _ = DType(type); // only the types this writer can produce
        if (!_tensorNames.Add(name)) throw new ArgumentException($"tensor '{name}' is added twice", nameof(name));
        _tensors.Add(new TensorEntry(name, shape, type, data));
    }

    /// <summary>Writes the file to a temporary name beside <paramref name="path"/> and renames it into place.</summary>
    public void Write(string path)
    {
        string temp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(Version);
                writer.Write((ulong)_tensors.Count);
                writer.Write((ulong)_metadata.Count);
                foreach (var (key, writeValue) in _metadata)
                {
                    WriteString(writer, key);
                    writeValue(writer);
                }
                long offset = 0;
                foreach (var tensor in _tensors)
                {
                    WriteString(writer, tensor.Name);
                    writer.Write((uint)tensor.Shape.Length);
                    foreach (long dimension in tensor.Shape.Reverse()) writer.Write((ulong)dimension);
                    writer.Write((uint)tensor.Type);
                    writer.Write((ulong)offset);
                    offset = Align(offset + tensor.ByteCount);
                }
                writer.Flush();
                Pad(stream);
                foreach (var tensor in _tensors)
                {
                    WriteData(stream, tensor);
                    Pad(stream);
                }
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private void Add(string key, Action<BinaryWriter> writeValue)
    {
        if (!_keys.Add(key)) throw new ArgumentException($"metadata key '{key}' is added twice", nameof(key));
        _metadata.Add((key, writeValue));
    }

    private static void WriteData(Stream stream, TensorEntry tensor)
    {
        using var scope = NewDisposeScope();
        var data = tensor.Data().contiguous();
        if (!data.shape.SequenceEqual(tensor.Shape) || data.dtype != DType(tensor.Type))
        {
            throw new InvalidOperationException($"tensor '{tensor.Name}' yielded {data.dtype} [{string.Join(", ", data.shape)}], " +
                                                $"not {DType(tensor.Type)} [{string.Join(", ", tensor.Shape)}]");
        }
        stream.Write(data.bytes);
    }

    private static void WriteString(BinaryWriter writer, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }

    private static void WriteArrayHeader(BinaryWriter writer, GgufValueType elementType, int count)
    {
        writer.Write((uint)GgufValueType.Array);
        writer.Write((uint)elementType);
        writer.Write((ulong)count);
    }

    private static long Align(long offset) => (offset + Alignment - 1) / Alignment * Alignment;

    private static void Pad(Stream stream)
    {
        long padding = Align(stream.Position) - stream.Position;
        for (long i = 0; i < padding; i++) stream.WriteByte(0);
    }

    internal static ScalarType DType(GgmlType type) => type switch
    {
        GgmlType.F32 => ScalarType.Float32,
        GgmlType.F16 => ScalarType.Float16,
        GgmlType.BF16 => ScalarType.BFloat16,
        _ => throw new NotSupportedException($"the exporter writes F32, F16 and BF16 tensors, not {type} (llama-quantize makes those)"),
    };

    private static int ElementSize(GgmlType type) => type == GgmlType.F32 ? 4 : 2;
}
