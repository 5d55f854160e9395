using static TorchSharp.torch;

namespace GenAI.Core.Models.Llama;

/// <summary>
/// Which keys each query of a forward pass may attend to: an explicit boolean mask [batch, 1, tokens, span]
/// (true = attend), or none with plain causal (a fresh prompt) or full (one new token) attention.
/// </summary>
internal sealed record AttentionMask(Tensor? Mask, bool IsCausal)
{
    /// <summary>
    /// The mask for a layer with a sliding window of <paramref name="window"/> positions (null: full attention) over
    /// queries at <paramref name="positions"/> ([batch or 1, tokens]) and keys 0..<paramref name="span"/>-1.
    /// <paramref name="plain"/> is the mask without a window; it stands whenever no query can see past the window.
    /// </summary>
    public static AttentionMask For(AttentionMask plain, int? window, Tensor positions, int span, int maxPosition)
    {
        if (window is not int w || maxPosition < w) return plain;
        var keys = arange(span, ScalarType.Int64, positions.device).view(1, 1, span);
        var queries = positions.unsqueeze(2);
        return new AttentionMask(keys.le(queries).logical_and_(keys.gt(queries.sub(w))).unsqueeze(1), false);
    }
}
