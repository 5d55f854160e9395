using static TorchSharp.torch;

namespace GenAI.Core.Models;

/// <summary>
/// One forward pass's view of a <see cref="KvCache"/>: which rows, where each row's new tokens go, and the
/// attention mask over the cached span (null when a plain or causal attention is exact).
/// </summary>
public sealed class KvCacheStep
{
    internal KvCacheStep(int firstRow, int[] lengths, int newTokens, Device device)
    {
        FirstRow = firstRow;
        Lengths = lengths;
        NewTokens = newTokens;
        int longest = lengths.Max();
        Span = longest + newTokens;
        bool uniform = lengths.All(l => l == lengths[0]);
        UniformLength = uniform ? lengths[0] : null;

        var positions = new long[lengths.Length * newTokens];
        for (int b = 0; b < lengths.Length; b++)
            for (int t = 0; t < newTokens; t++)
                positions[b * newTokens + t] = lengths[b] + t;
        Positions = tensor(positions, [lengths.Length, newTokens], device: device);

        if (!uniform && newTokens == 1)
        {
            RowIndex = arange(lengths.Length, ScalarType.Int64, device);
            WritePositions = tensor(lengths.Select(l => (long)l).ToArray(), device: device);
        }

        // Uniform rows: one new token sees every key; a fresh prompt is plainly causal. Otherwise mask key j > position.
        if (uniform && (newTokens == 1 || lengths[0] == 0))
        {
            IsCausal = newTokens > 1;
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

    /// <summary>Tokens appended to every row.</summary>
    public int NewTokens { get; }

    /// <summary>Key positions attended over: the longest row's length plus the new tokens.</summary>
    public int Span { get; }

    /// <summary>The common length when all rows have it.</summary>
    public int? UniformLength { get; }

    /// <summary>Absolute positions of the new tokens, [batch, tokens] int64.</summary>
    public Tensor Positions { get; }

    /// <summary>Boolean mask [batch, 1, tokens, span] (true = attend), or null.</summary>
    public Tensor? Mask { get; }

    /// <summary>True when no mask is given and attention must be causal (a fresh prompt).</summary>
    public bool IsCausal { get; }

    internal Tensor? RowIndex { get; }

    internal Tensor? WritePositions { get; }
}
