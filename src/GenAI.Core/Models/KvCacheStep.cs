using static TorchSharp.torch;

namespace GenAI.Core.Models;

/// <summary>
/// One forward pass's view of a <see cref="KvCache"/>: which rows, how many new tokens each row appends (rows may
/// differ: a batched prefill pads shorter rows to the longest), where they go, and the attention mask over the cached
/// span (null when a plain or causal attention is exact). Padding tokens repeat their row's last position, so they
/// never reach past it; their outputs are ignored and their keys and values are not kept.
/// </summary>
public sealed class KvCacheStep
{
    internal KvCacheStep(int firstRow, int[] lengths, int[] newTokens, Device device)
    {
        FirstRow = firstRow;
        Lengths = lengths;
        TokensPerRow = newTokens;
        NewTokens = newTokens.Max();
        Span = lengths.Zip(newTokens, (l, n) => l + n).Max();
        bool sameLengths = lengths.All(l => l == lengths[0]);
        IsRagged = newTokens.Any(n => n != NewTokens);
        UniformLength = sameLengths && !IsRagged ? lengths[0] : null;

        int batch = lengths.Length;
        var positions = new long[batch * NewTokens];
        for (int b = 0; b < batch; b++)
        {
            // A row's padding repeats its last new position; a row with no new token sits on its last cached one, so
            // no position passes what the row holds (learned position tables and rotary tables end there).
            int last = newTokens[b] > 0 ? lengths[b] + newTokens[b] - 1 : Math.Max(lengths[b] - 1, 0);
            for (int t = 0; t < NewTokens; t++) positions[b * NewTokens + t] = Math.Min(lengths[b] + t, last);
        }
        Positions = tensor(positions, [batch, NewTokens], device: device);

        if (NewTokens == 1 && UniformLength is null)
        {
            // One token per row at different positions (or none for rows riding along): one scattered write.
            var writing = Enumerable.Range(0, batch).Where(b => newTokens[b] == 1).ToArray();
            RowIndex = tensor(writing.Select(b => (long)b).ToArray(), device: device);
            WritePositions = tensor(writing.Select(b => (long)lengths[b]).ToArray(), device: device);
            if (IsRagged) WritingRows = RowIndex;
        }

        // Uniform rows: one new token sees every key; a fresh prompt is plainly causal. Otherwise mask key j > position.
        if (UniformLength is int uniform && (NewTokens == 1 || uniform == 0))
        {
            IsCausal = NewTokens > 1;
        }
        else
        {
            var keyPositions = arange(Span, ScalarType.Int64, device).view(1, 1, Span);
            Mask = keyPositions.le(Positions.unsqueeze(2)).unsqueeze(1);
        }
    }

    /// <summary>The first cache row.</summary>
    public int FirstRow { get; }

    /// <summary>Number of rows.</summary>
    public int Batch => Lengths.Length;

    /// <summary>Cached tokens per row before this step.</summary>
    public int[] Lengths { get; }

    /// <summary>New tokens of each row (at most <see cref="NewTokens"/>; 0 for a row that only rides along).</summary>
    public int[] TokensPerRow { get; }

    /// <summary>Tokens per row in the input, the longest row's count; shorter rows are padded to it.</summary>
    public int NewTokens { get; }

    /// <summary>True when rows append different numbers of tokens.</summary>
    public bool IsRagged { get; }

    /// <summary>Key positions attended over: the longest row's length after this step.</summary>
    public int Span { get; }

    /// <summary>The common length when all rows have it and append the same number of tokens.</summary>
    public int? UniformLength { get; }

    /// <summary>Absolute positions of the input tokens, [batch, tokens] int64 (padding repeats the row's last).</summary>
    public Tensor Positions { get; }

    /// <summary>Boolean mask [batch, 1, tokens, span] (true = attend), or null.</summary>
    public Tensor? Mask { get; }

    /// <summary>True when no mask is given and attention must be causal (a fresh prompt).</summary>
    public bool IsCausal { get; }

    /// <summary>Each row's length after this step (its longest position + 1).</summary>
    public IEnumerable<int> EndLengths => Lengths.Zip(TokensPerRow, (l, n) => l + n);

    internal Tensor? RowIndex { get; }

    /// <summary>The rows whose keys a one-token ragged step writes (a subset of the input's rows), or null for all.</summary>
    internal Tensor? WritingRows { get; }

    internal Tensor? WritePositions { get; }
}
