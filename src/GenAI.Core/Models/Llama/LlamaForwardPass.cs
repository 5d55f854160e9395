using GenAI.Core.Models.Layers;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Llama;

/// <summary>
/// What every layer of one forward pass shares: the cache step, the rotary tables of the positions, and the attention
/// mask of each distinct sliding window (computed once, not per layer). Its tensors belong to the caller's dispose scope.
/// </summary>
internal sealed class LlamaForwardPass
{
    private readonly IReadOnlyList<int?> _windows;
    private readonly Dictionary<int, AttentionMask> _windowMasks = [];
    private readonly AttentionMask _plain;
    private readonly Tensor _positions;
    private readonly int _span, _maxPosition;

    public LlamaForwardPass(LlamaConfig config, RotaryEmbedding rotary, int batch, int tokens, Device device, ScalarType dtype, KvCache? cache, KvCacheStep? step)
    {
        _windows = config.SlidingWindows;
        Rotary = rotary;
        Cache = cache;
        Step = step;
        int[] lengths;
        if (step is not null)
        {
            _positions = step.Positions;
            _span = step.Span;
            _plain = new AttentionMask(step.Mask, step.IsCausal);
            lengths = step.EndLengths.ToArray();
        }
        else
        {
            _positions = arange(tokens, ScalarType.Int64, device).unsqueeze(0);
            _span = tokens;
            _plain = new AttentionMask(null, tokens > 1);
            lengths = Enumerable.Repeat(tokens, batch).ToArray();
        }
        _maxPosition = lengths.Max() - 1;
        (Cos, Sin) = rotary.Tables(_positions, lengths, dtype);
        // Made here, in the caller's scope: layers run in scopes of their own, which would free a mask made inside one.
        foreach (int window in _windows.OfType<int>().Distinct())
        {
            _windowMasks[window] = AttentionMask.For(_plain, window, _positions, _span, _maxPosition);
        }
    }

    public RotaryEmbedding Rotary { get; }

    public KvCache? Cache { get; }

    public KvCacheStep? Step { get; }

    public Tensor Cos { get; }

    public Tensor Sin { get; }

    /// <summary>The sliding window of <paramref name="layer"/>, or null for full attention.</summary>
    public int? WindowOf(int layer) => _windows[layer];

    public AttentionMask MaskFor(int layer)
    {
        return _windows[layer] is int window ? _windowMasks[window] : _plain;
    }
}
