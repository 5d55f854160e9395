using static TorchSharp.torch;

namespace GenAI.Benchmarks.Gguf;

/// <summary>How a checkpoint tensor is rearranged on its way into a GGUF file.</summary>
internal enum TensorRearrangement
{
    /// <summary>As stored.</summary>
    None,

    /// <summary>GPT-2's Conv1D weights, stored [in, out] by Hugging Face: transposed to [out, in] as llama.cpp multiplies them.</summary>
    Transposed,

    /// <summary>
    /// Llama q/k projections: rows regrouped per head from Hugging Face's rotate-half rotary layout to the interleaved
    /// pairs llama.cpp's rope rotates (convert_hf_to_gguf.py's <c>LlamaModel.permute</c>).
    /// </summary>
    RopePermuted,
}

/// <summary>One GGUF tensor and the checkpoint tensor it is made from.</summary>
/// <param name="Name">The GGUF name, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="CheckpointName">The safetensors name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
/// <param name="Rearrangement">How the stored tensor is rearranged.</param>
/// <param name="Heads">The heads <see cref="TensorRearrangement.RopePermuted"/> regroups by.</param>
internal sealed record GgufTensorSource(string Name, string CheckpointName, TensorRearrangement Rearrangement = TensorRearrangement.None, int Heads = 0)
{
    /// <summary>The shape after rearranging a stored tensor of shape <paramref name="stored"/>.</summary>
    public long[] Shape(long[] stored) => Rearrangement == TensorRearrangement.Transposed ? [.. stored.Reverse()] : stored;

    /// <summary>Rearranges <paramref name="stored"/> (a new tensor; the caller's scope owns it).</summary>
    public Tensor Rearrange(Tensor stored) => Rearrangement switch
    {
        TensorRearrangement.Transposed => stored.t().contiguous(),
        TensorRearrangement.RopePermuted => Permute(stored, Heads),
        _ => stored.alias(),
    };

    /// <summary>
    /// <c>w.reshape(heads, 2, rows / heads / 2, *rest).swapaxes(1, 2).reshape(w.shape)</c>: within each head, the rows
    /// of the first and second halves become neighbours.
    /// </summary>
    private static Tensor Permute(Tensor weights, int heads)
    {
        long rows = weights.shape[0];
        if (heads <= 0 || rows % (2 * heads) != 0) throw new InvalidDataException($"{rows} rows do not split into {heads} heads of pairs");
        long[] grouped = [heads, 2, rows / heads / 2, .. weights.shape.Skip(1)];
        return weights.reshape(grouped).transpose(1, 2).reshape(weights.shape).contiguous();
    }
}
