using static TorchSharp.torch;

namespace GenAI.Core.Models.Layers;

/// <summary>
/// Dropout that costs nothing when it does nothing: out of training (or at probability 0) x itself, not the new
/// tensor handle libtorch's no-op dropout returns (a native call and a handle per use, several per layer of a decode step).
/// </summary>
internal static class TrainingDropout
{
    /// <summary>nn.functional.dropout(x, probability) in training with a probability above 0, else x.</summary>
    public static Tensor Apply(Tensor x, double probability, bool training) =>
        training && probability > 0 ? nn.functional.dropout(x, probability, training: true) : x;
}
