using GenAI.Core.Models.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models;

/// <summary>
/// Keys and values of past tokens, preallocated per layer as [rows, heads, positions, head_dim] so that decoding
/// writes in place instead of concatenating. Each row holds one sequence with its own length; a forward pass
/// covers a contiguous range of rows (the engine keeps live sequences packed at the front).
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;
    private readonly int[] _lengths;

    /// <summary>Allocates the cache.</summary>
    public KvCache(int layers, int maxBatch, int maxSequenceLength, int heads, int headDim, ScalarType dtype, Device device)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequenceLength, 1);
        MaxBatch = maxBatch;
        MaxSequenceLength = maxSequenceLength;
        long bytes = 2L * layers * maxBatch * heads * maxSequenceLength * headDim * ElementSize(dtype);
        if (device.type == DeviceType.CPU && AvailableMemory() is long available && bytes > available)
        {
            // zeros() touches every page: better a clear refusal than the process killed for memory.
            throw new InsufficientMemoryException(
                $"the KV cache would take {bytes / (double)(1L << 30):F1} GiB ({maxBatch} rows x {maxSequenceLength} positions x {layers} layers) " +
                $"but only {available / (double)(1L << 30):F1} GiB of memory is available; serve fewer rows or positions " +
                "(the server's MaxConcurrentSequences and MaxSequenceLength)");
        }
        _keys = new Tensor[layers];
        _values = new Tensor[layers];
        for (int i = 0; i < layers; i++)
        {
            _keys[i] = zeros([maxBatch, heads, maxSequenceLength, headDim], dtype, device);
            _values[i] = zeros([maxBatch, heads, maxSequenceLength, headDim], dtype, device);
        }
        _lengths = new int[maxBatch];
    }

    private static long ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => 8,
        ScalarType.Float32 => 4,
        _ => 2,
    };

    // Linux's estimate of memory a new allocation can use without swapping; null where it cannot be read.
    private static long? AvailableMemory()
    {
        try
        {
            string? line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Number of rows (sequences) the cache holds.</summary>
    public int MaxBatch { get; }

    /// <summary>Positions per row.</summary>
    public int MaxSequenceLength { get; }

    /// <summary>Bytes one cached position takes across all layers (keys and values).</summary>
    public long BytesPerPosition => ByteCount / ((long)MaxBatch * MaxSequenceLength);

    /// <summary>Bytes the cache occupies.</summary>
    public long ByteCount => _keys.Sum(k => k.numel() * k.ElementSize) * 2;

    /// <summary>Tokens cached in <paramref name="row"/>.</summary>
    public int LengthOf(int row) => _lengths[row];

    /// <summary>Empties a row (its memory is reused, not cleared).</summary>
    public void Reset(int row) => _lengths[row] = 0;

    /// <summary>Forgets the positions of <paramref name="row"/> from <paramref name="length"/> on.</summary>
    public void Truncate(int row, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _lengths[row]);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _lengths[row] = length;
    }

    /// <summary>Copies the cached sequence of row <paramref name="source"/> over row <paramref name="destination"/>.</summary>
    public void CopyRow(int source, int destination)
    {
        if (source == destination) return;
        int length = _lengths[source];
        if (length > 0)
        {
            using var scope = NewDisposeScope();
            for (int layer = 0; layer < _keys.Length; layer++)
            {
                _keys[layer][destination].narrow(1, 0, length).copy_(_keys[layer][source].narrow(1, 0, length));
                _values[layer][destination].narrow(1, 0, length).copy_(_values[layer][source].narrow(1, 0, length));
            }
        }
        _lengths[destination] = length;
    }

    /// <summary>
    /// Copies of the first <paramref name="length"/> cached positions of <paramref name="row"/>, per layer
    /// [heads, length, head_dim] keys and values, owned by the caller (outside any dispose scope).
    /// </summary>
    public (Tensor[] Keys, Tensor[] Values) ExportRow(int row, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _lengths[row]);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        var keys = new Tensor[_keys.Length];
        var values = new Tensor[_values.Length];
        using (var scope = NewDisposeScope())
        {
            for (int layer = 0; layer < _keys.Length; layer++)
            {
                keys[layer] = _keys[layer][row].narrow(1, 0, length).clone().MoveToOuterDisposeScope();
                values[layer] = _values[layer][row].narrow(1, 0, length).clone().MoveToOuterDisposeScope();
            }
        }
        return (keys, values);
    }

    /// <summary>
    /// Makes <paramref name="row"/> hold the first <paramref name="length"/> positions of exported keys and values
    /// (<see cref="ExportRow"/>), as if it had computed them.
    /// </summary>
    public void ImportRow(int row, IReadOnlyList<Tensor> keys, IReadOnlyList<Tensor> values, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxSequenceLength);
        using var scope = NewDisposeScope();
        for (int layer = 0; layer < _keys.Length; layer++)
        {
            _keys[layer][row].narrow(1, 0, length).copy_(keys[layer].narrow(1, 0, length));
            _values[layer][row].narrow(1, 0, length).copy_(values[layer].narrow(1, 0, length));
        }
        _lengths[row] = length;
    }

    /// <summary>
    /// Replaces rows <paramref name="firstRow"/>.. with copies of the given source rows (which must lie in the same
    /// range), e.g. when beam search keeps some beams twice and drops others.
    /// </summary>
    public void GatherRows(int firstRow, IReadOnlyList<int> sourceRows)
    {
        if (sourceRows.Select((s, i) => s == firstRow + i).All(same => same)) return;
        using var scope = NewDisposeScope();
        int span = sourceRows.Select(s => _lengths[s]).DefaultIfEmpty(0).Max();
        var index = tensor(sourceRows.Select(s => (long)s).ToArray(), device: _keys[0].device);
        for (int layer = 0; layer < _keys.Length; layer++)
        {
            var keys = _keys[layer].narrow(2, 0, Math.Max(span, 1));
            var values = _values[layer].narrow(2, 0, Math.Max(span, 1));
            var gatheredKeys = keys.index_select(0, index);
            var gatheredValues = values.index_select(0, index);
            keys.narrow(0, firstRow, sourceRows.Count).copy_(gatheredKeys);
            values.narrow(0, firstRow, sourceRows.Count).copy_(gatheredValues);
        }
        var lengths = sourceRows.Select(s => _lengths[s]).ToArray();
        lengths.CopyTo(_lengths, firstRow);
    }

    /// <summary>
    /// Starts a forward pass over rows [<paramref name="firstRow"/>, +<paramref name="batch"/>) that appends
    /// <paramref name="newTokens"/> tokens to each (or, with <paramref name="tokensPerRow"/>, that many to each row, the
    /// input padded to the longest): validates room, and computes positions and the attention mask. Its tensors belong
    /// to the caller's dispose scope.
    /// </summary>
    public KvCacheStep BeginStep(int firstRow, int batch, int newTokens, IReadOnlyList<int>? tokensPerRow = null)
    {
        if (firstRow < 0 || batch < 1 || firstRow + batch > MaxBatch)
        {
            throw new ArgumentOutOfRangeException(nameof(firstRow), $"rows [{firstRow}, {firstRow + batch}) are outside the cache's {MaxBatch} rows");
        }
        var perRow = tokensPerRow?.ToArray() ?? Enumerable.Repeat(newTokens, batch).ToArray();
        if (perRow.Length != batch || perRow.Any(n => n < 0 || n > newTokens) || perRow.Max() != newTokens)
        {
            throw new ArgumentException($"tokens per row must be {batch} counts in [0, {newTokens}] whose largest is {newTokens}", nameof(tokensPerRow));
        }
        var lengths = new int[batch];
        Array.Copy(_lengths, firstRow, lengths, 0, batch);
        for (int b = 0; b < batch; b++)
        {
            if (lengths[b] + perRow[b] > MaxSequenceLength)
            {
                throw new ArgumentOutOfRangeException(nameof(newTokens), $"{lengths[b]} cached + {perRow[b]} new tokens exceed the cache's {MaxSequenceLength} positions");
            }
        }
        return new KvCacheStep(firstRow, lengths, perRow, _keys[0].device);
    }

    /// <summary>Writes one layer's new keys and values ([batch, heads, tokens, head_dim]) at each row's next positions.</summary>
    public void Write(int layer, KvCacheStep step, Tensor keys, Tensor values)
    {
        if (DecodeAttention.CanWrite(step, keys, values, _keys[layer]))
        {
            DecodeAttention.Write(keys, values, _keys[layer], _values[layer], step);
            return;
        }
        var cachedKeys = _keys[layer].narrow(0, step.FirstRow, step.Batch);
        var cachedValues = _values[layer].narrow(0, step.FirstRow, step.Batch);
        if (step.UniformLength is int start)
        {
            cachedKeys.narrow(2, start, step.NewTokens).copy_(keys);
            cachedValues.narrow(2, start, step.NewTokens).copy_(values);
        }
        else if (step.RowIndex is not null)
        {
            var rows = step.RowIndex!;
            var positions = step.WritePositions!;
            Tensor newKeys = keys.squeeze(2), newValues = values.squeeze(2);
            if (step.WritingRows is { } writing)
            {
                newKeys = newKeys.index_select(0, writing);
                newValues = newValues.index_select(0, writing);
            }
            cachedKeys.index_put_(newKeys, [TensorIndex.Tensor(rows), TensorIndex.Colon, TensorIndex.Tensor(positions)]);
            cachedValues.index_put_(newValues, [TensorIndex.Tensor(rows), TensorIndex.Colon, TensorIndex.Tensor(positions)]);
        }
        else
        {
            for (int b = 0; b < step.Batch; b++)
            {
                int count = step.TokensPerRow[b];
                if (count == 0) continue;
                cachedKeys[b].narrow(1, step.Lengths[b], count).copy_(keys[b].narrow(1, 0, count));
                cachedValues[b].narrow(1, step.Lengths[b], count).copy_(values[b].narrow(1, 0, count));
            }
        }
    }

    /// <summary>The keys and values ([batch, heads, span, head_dim] views) this step attends over.</summary>
    public (Tensor Keys, Tensor Values) Read(int layer, KvCacheStep step) =>
        (_keys[layer].narrow(0, step.FirstRow, step.Batch).narrow(2, 0, step.Span),
         _values[layer].narrow(0, step.FirstRow, step.Batch).narrow(2, 0, step.Span));

    /// <summary>
    /// True when <see cref="Attend"/> can take this step's <paramref name="query"/>: one new token per row on the CPU,
    /// no autograd, query and cache in float32 or bfloat16.
    /// </summary>
    public bool CanAttend(KvCacheStep step, Tensor query) => DecodeAttention.Applies(step, query, _keys[0]);

    /// <summary>
    /// Attention of one new token per row (<paramref name="query"/> [batch, heads, 1, head_dim], after the layer's
    /// <see cref="Write"/>) over the cached keys and values in place: each row up to its position, or its last
    /// <paramref name="window"/> positions. Returns [batch, 1, heads × head_dim]. Check <see cref="CanAttend"/> first.
    /// </summary>
    public Tensor Attend(int layer, KvCacheStep step, Tensor query, double scale, int? window = null) =>
        DecodeAttention.Apply(query, _keys[layer], _values[layer], step, scale, window);

    /// <summary>Records the step's tokens as cached (call after every layer was written).</summary>
    public void Commit(KvCacheStep step)
    {
        for (int b = 0; b < step.Batch; b++) _lengths[step.FirstRow + b] = step.Lengths[b] + step.TokensPerRow[b];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in _keys) t.Dispose();
        foreach (var t in _values) t.Dispose();
    }
}
