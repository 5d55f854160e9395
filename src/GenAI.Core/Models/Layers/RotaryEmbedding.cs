using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Layers;

/// <summary>
/// Rotary position embedding on split halves (Hugging Face's <c>rotate_half</c>): the first
/// <see cref="RopeParameters.RotaryDim"/> dimensions of each head rotate by position × frequency, the rest pass through.
/// Angles are computed in float64 from the positions of each forward pass, so long contexts keep their precision.
/// </summary>
public sealed class RotaryEmbedding
{
    private readonly RopeParameters _parameters;
    private readonly double[]? _fixedFrequencies;

    /// <summary>Creates the embedding for <paramref name="parameters"/>.</summary>
    public RotaryEmbedding(RopeParameters parameters)
    {
        _parameters = parameters;
        if (!parameters.DependsOnLength) _fixedFrequencies = parameters.InverseFrequencies(parameters.MaxPositionEmbeddings);
    }

    /// <summary>The rotary settings.</summary>
    public RopeParameters Parameters => _parameters;

    /// <summary>
    /// cos and sin tables [batch or 1, 1, tokens, rotary_dim] in <paramref name="dtype"/> for <paramref name="positions"/>
    /// ([batch or 1, tokens] int64). <paramref name="sequenceLengths"/> gives each row's longest position + 1, which the
    /// length-dependent kinds (dynamic NTK, LongRoPE) choose their frequencies by, row by row.
    /// </summary>
    public (Tensor Cos, Tensor Sin) Tables(Tensor positions, IReadOnlyList<int> sequenceLengths, ScalarType dtype)
    {
        int half = _parameters.RotaryDim / 2;
        double[] frequencies;
        long rows;
        if (_fixedFrequencies is not null)
        {
            frequencies = _fixedFrequencies;
            rows = 1;
        }
        else
        {
            rows = sequenceLengths.Count;
            frequencies = new double[rows * half];
            for (int b = 0; b < rows; b++) _parameters.InverseFrequencies(sequenceLengths[b]).CopyTo(frequencies, b * half);
        }
        var inverse = tensor(frequencies, [rows, 1, half], ScalarType.Float64, positions.device);
        var angles = positions.to(ScalarType.Float64).unsqueeze(-1).mul(inverse);
        var doubled = cat([angles, angles], -1);
        Tensor cosine = doubled.cos(), sine = doubled.sin();
        if (_parameters.AttentionScaling != 1)
        {
            cosine = cosine.mul_(_parameters.AttentionScaling);
            sine = sine.mul_(_parameters.AttentionScaling);
        }
        return (cosine.to(dtype).unsqueeze(1), sine.to(dtype).unsqueeze(1));
    }

    /// <summary>Rotates <paramref name="x"/> [batch, heads, tokens, head_dim] by the tables of <see cref="Tables"/>.</summary>
    public Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        int rotary = _parameters.RotaryDim, headDim = (int)x.shape[^1], half = rotary / 2;
        var turning = rotary == headDim ? x : x.narrow(-1, 0, rotary);
        var rotated = cat([turning.narrow(-1, half, half).neg(), turning.narrow(-1, 0, half)], -1);
        var embedded = turning.mul(cos).add_(rotated.mul(sin));
        return rotary == headDim ? embedded : cat([embedded, x.narrow(-1, rotary, headDim - rotary)], -1);
    }
}
