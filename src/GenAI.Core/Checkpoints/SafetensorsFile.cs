using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Checkpoints;

/// <summary>
/// A safetensors file opened for reading: the header is parsed and validated up front (dtypes, shapes, offsets
/// in range and not overlapping), tensors are read on demand straight into tensor memory.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>Hugging Face's own reader refuses headers above this size.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly SafeFileHandle _handle;
    private readonly long _dataStart;

    private SafetensorsFile(string path, SafeFileHandle handle, long dataStart,
        IReadOnlyDictionary<string, SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        FilePath = path;
        _handle = handle;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The file's path.</summary>
    public string FilePath { get; }

    /// <summary>Every tensor in the file, by name.</summary>
    public IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="CheckpointException">The file is missing, truncated or its header is invalid.</exception>
    public static SafetensorsFile Open(string path)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, null, $"cannot open: {e.Message}", e);
        }

        try
        {
            var (dataStart, tensors, metadata) = ReadHeader(path, handle);
            return new SafetensorsFile(path, handle, dataStart, tensors, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads a tensor into a new CPU tensor of its stored dtype.</summary>
    public Tensor ReadTensor(string name)
    {
        var info = Info(name);
        var tensor = empty(info.Shape, info.DType.ToScalarType());
        try
        {
            ReadBytes(info, tensor);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies a tensor into <paramref name="destination"/> (any device and dtype; the shape must match),
    /// converting its dtype on the way when they differ.
    /// </summary>
    public void ReadInto(string name, Tensor destination)
    {
        var info = Info(name);
        if (!info.Shape.SequenceEqual(destination.shape))
        {
            throw new CheckpointException(FilePath, name,
                $"shape [{string.Join(", ", info.Shape)}] does not match the expected [{string.Join(", ", destination.shape)}]");
        }

        using var scope = NewDisposeScope();
        bool direct = destination.device_type == DeviceType.CPU && destination.dtype == info.DType.ToScalarType() && destination.is_contiguous();
        if (direct)
        {
            ReadBytes(info, destination);
        }
        else
        {
            using var staged = ReadTensor(name);
            using var _ = no_grad();
            destination.copy_(staged);
        }
    }

    private SafetensorsTensorInfo Info(string name) =>
        Tensors.TryGetValue(name, out var info) ? info : throw new CheckpointException(FilePath, name, "not in this file");

    private void ReadBytes(SafetensorsTensorInfo info, Tensor destination)
    {
        long offset = _dataStart + info.Begin;
        long remaining = info.ByteCount;
        if (remaining == 0) return;
        if (remaining > int.MaxValue)
        {
            throw new CheckpointException(FilePath, info.Name, $"{remaining} bytes is more than one tensor read supports (2 GiB)");
        }

        var span = destination.bytes;
        int done = 0;
        while (done < span.Length)
        {
            int read = RandomAccess.Read(_handle, span[done..], offset + done);
            if (read == 0) throw new CheckpointException(FilePath, info.Name, "file ended before the tensor's data (truncated)");
            done += read;
        }
    }

    private static (long DataStart, Dictionary<string, SafetensorsTensorInfo> Tensors, Dictionary<string, string> Metadata)
        ReadHeader(string path, SafeFileHandle handle)
    {
        long fileLength = RandomAccess.GetLength(handle);
        if (fileLength < 8)
        {
            throw new CheckpointException(path, null, $"truncated: {fileLength} bytes, shorter than the 8-byte header length");
        }

        Span<byte> lengthBytes = stackalloc byte[8];
        RandomAccess.Read(handle, lengthBytes, 0);
        ulong headerLength = BitConverter.ToUInt64(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
        {
            throw new CheckpointException(path, null, $"header length {headerLength} runs past the end of the file ({fileLength} bytes; truncated or not safetensors)");
        }
        if (headerLength > MaxHeaderBytes)
        {
            throw new CheckpointException(path, null, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        }

        var header = new byte[headerLength];
        RandomAccess.Read(handle, header, 8);
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, null, $"header is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointException(path, null, "header is not a JSON object");
            }

            var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    ReadMetadata(path, property.Value, metadata);
                    continue;
                }
                tensors.Add(property.Name, ReadEntry(path, property.Name, property.Value, dataLength));
            }

            CheckNoOverlap(path, tensors.Values);
            return (dataStart, tensors, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement element, Dictionary<string, string> metadata)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(path, null, "__metadata__ is not an object of strings");
        }
        foreach (var item in element.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new CheckpointException(path, null, $"__metadata__ value '{item.Name}' is not a string");
            }
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static SafetensorsTensorInfo ReadEntry(string path, string name, JsonElement entry, long dataLength)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(path, name, "header entry is not an object");
        }
        if (!entry.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new CheckpointException(path, name, "header entry has no dtype string");
        }
        string dtypeText = dtypeElement.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeText, out var dtype))
        {
            throw new CheckpointException(path, name, $"unknown dtype '{dtypeText}' (supported: {string.Join(", ", Enum.GetNames<SafetensorsDType>())})");
        }

        var shape = ReadLongs(path, name, entry, "shape", -1);
        var offsets = ReadLongs(path, name, entry, "data_offsets", 2);
        long begin = offsets[0], end = offsets[1];
        if (begin > end || end > dataLength)
        {
            throw new CheckpointException(path, name, $"data_offsets [{begin}, {end}] out of range (data section is {dataLength} bytes)");
        }

        long elements = 1;
        try
        {
            foreach (long d in shape) elements = checked(elements * d);
            long expected = checked(elements * dtype.ElementSize());
            if (expected != end - begin)
            {
                throw new CheckpointException(path, name, $"data_offsets span {end - begin} bytes but shape [{string.Join(", ", shape)}] of {dtype} needs {expected}");
            }
        }
        catch (OverflowException)
        {
            throw new CheckpointException(path, name, $"shape [{string.Join(", ", shape)}] is too large");
        }

        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] ReadLongs(string path, string name, JsonElement entry, string field, int requiredCount)
    {
        if (!entry.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new CheckpointException(path, name, $"header entry has no {field} array");
        }
        var values = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long value) || value < 0)
            {
                throw new CheckpointException(path, name, $"{field} holds {item.GetRawText()}, not a non-negative integer");
            }
            values.Add(value);
        }
        if (requiredCount >= 0 && values.Count != requiredCount)
        {
            throw new CheckpointException(path, name, $"{field} has {values.Count} values, expected {requiredCount}");
        }
        return values.ToArray();
    }

    private static void CheckNoOverlap(string path, IEnumerable<SafetensorsTensorInfo> tensors)
    {
        SafetensorsTensorInfo? previous = null;
        foreach (var info in tensors.Where(t => t.ByteCount > 0).OrderBy(t => t.Begin))
        {
            if (previous is not null && info.Begin < previous.End)
            {
                throw new CheckpointException(path, info.Name,
                    $"data_offsets [{info.Begin}, {info.End}] overlap tensor '{previous.Name}' [{previous.Begin}, {previous.End}]");
            }
            previous = info;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();
}
