using GenAI.Core.Models.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Layers;

/// <summary>
/// Rotary position embedding on split halves (Hugging Face's <c>rotate_half</c>): the first
/// <see cref="RopeParameters.RotaryDim"/> dimensions of each head rotate by position × frequency, the rest pass through.
/// Angles are computed in float64, so long contexts keep their precision; for the kinds whose frequencies do not
/// depend on the sequence, cos and sin are computed once per position (a table that grows as positions do) and a
/// forward pass only looks its positions up.
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    private readonly RopeParameters _parameters;
    private readonly double[]? _fixedFrequencies;
    private Tensor? _cosTable, _sinTable; // [positions, rotary_dim], for the fixed kinds

    /// <summary>Creates the embedding for <paramref name="parameters"/>.</summary>
    public RotaryEmbedding(RopeParameters parameters)
    {
        _parameters = parameters;
        if (!parameters.DependsOnLength) _fixedFrequencies = parameters.InverseFrequencies(parameters.MaxPositionEmbeddings);
    }

    /// <summary>
    /// cos and sin tables [batch or 1, 1, tokens, rotary_dim] in <paramref name="dtype"/> for <paramref name="positions"/>
    /// ([batch or 1, tokens] int64). <paramref name="sequenceLengths"/> gives each row's longest position + 1, which the
    /// length-dependent kinds (dynamic NTK, LongRoPE) choose their frequencies by, row by row.
    /// </summary>
    public (Tensor Cos, Tensor Sin) Tables(Tensor positions, IReadOnlyList<int> sequenceLengths, ScalarType dtype)
    {
        if (_fixedFrequencies is not null)
        {
            EnsureTable(sequenceLengths.Max(), dtype, positions.device);
            var flat = positions.reshape(-1);
            long[] shape = [positions.size(0), 1, positions.size(1), _parameters.RotaryDim];
            return (_cosTable!.index_select(0, flat).view(shape), _sinTable!.index_select(0, flat).view(shape));
        }
        int half = _parameters.RotaryDim / 2, rows = sequenceLengths.Count;
        var frequencies = new double[rows * half];
        for (int b = 0; b < rows; b++) _parameters.InverseFrequencies(sequenceLengths[b]).CopyTo(frequencies, b * half);
        var (cos, sin) = CosSin(positions.to(ScalarType.Float64).unsqueeze(-1), tensor(frequencies, [rows, 1, half], ScalarType.Float64, positions.device), dtype);
        return (cos.unsqueeze(1), sin.unsqueeze(1));
    }

    // The fixed kinds' table covers every position up to the longest seen, grown by doubling; it lives outside any
    // dispose scope (the model owns it) and is rebuilt if the compute dtype or device changes.
    private void EnsureTable(int positions, ScalarType dtype, Device device)
    {
        bool sameKind = _cosTable is not null && _cosTable.dtype == dtype && _cosTable.device_type == device.type && _cosTable.device_index == device.index;
        if (sameKind && _cosTable!.size(0) >= positions) return;
        int size = Math.Max(positions, sameKind ? (int)Math.Min(2 * _cosTable!.size(0), int.MaxValue / 2) : 256);
        using var scope = NewDisposeScope();
        using var ordinary = inference_mode(false); // the table may serve training passes too, made after serving ones
        var all = arange(size, ScalarType.Float64, device).unsqueeze(-1);
        var (cos, sin) = CosSin(all, tensor(_fixedFrequencies!, [1, _fixedFrequencies!.Length], ScalarType.Float64, device), dtype);
        _cosTable?.Dispose();
        _sinTable?.Dispose();
        _cosTable = cos.DetachFromDisposeScope();
        _sinTable = sin.DetachFromDisposeScope();
    }

    /// <summary>cos and sin of positions × inverse frequencies, halves duplicated, scaled, in <paramref name="dtype"/>.</summary>
    private (Tensor Cos, Tensor Sin) CosSin(Tensor positions, Tensor inverse, ScalarType dtype)
    {
        var angles = positions.mul(inverse);
        var doubled = cat([angles, angles], -1);
        Tensor cosine = doubled.cos(), sine = doubled.sin();
        if (_parameters.AttentionScaling != 1)
        {
            cosine = cosine.mul_(_parameters.AttentionScaling);
            sine = sine.mul_(_parameters.AttentionScaling);
        }
        return (cosine.to(dtype), sine.to(dtype));
    }

    /// <summary>Rotates <paramref name="x"/> [batch, heads, tokens, head_dim] by the tables of <see cref="Tables"/>.</summary>
    public Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        if (SmallRowKernels.Applies(x, cos) && cos.is_contiguous() && sin.is_contiguous())
        {
            return SmallRowKernels.Rotary(x, cos, sin, _parameters.RotaryDim);
        }
        int rotary = _parameters.RotaryDim, headDim = (int)x.size(-1), half = rotary / 2;
        var turning = rotary == headDim ? x : x.narrow(-1, 0, rotary);
        var rotated = cat([turning.narrow(-1, half, half).neg(), turning.narrow(-1, 0, half)], -1);
        var embedded = turning.mul(cos).add_(rotated.mul(sin));
        return rotary == headDim ? embedded : cat([embedded, x.narrow(-1, rotary, headDim - rotary)], -1);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _cosTable?.Dispose();
        _sinTable?.Dispose();
    }
}
