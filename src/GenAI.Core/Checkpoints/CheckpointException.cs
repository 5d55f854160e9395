namespace GenAI.Core.Checkpoints;

/// <summary>
/// A checkpoint (safetensors file, Hugging Face model folder, config.json) that cannot be used as it is.
/// The message names the file and, where one is at fault, the tensor.
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception for <paramref name="file"/> and optionally one of its tensors.</summary>
    public CheckpointException(string file, string? tensor, string problem, Exception? inner = null)
        : base(Format(file, tensor, problem), inner)
    {
        FilePath = file;
        TensorName = tensor;
    }

    /// <summary>The file (or folder) at fault.</summary>
    public string FilePath { get; }

    /// <summary>The tensor at fault, when the problem is one tensor's.</summary>
    public string? TensorName { get; }

    private static string Format(string file, string? tensor, string problem) =>
        tensor is null ? $"{file}: {problem}" : $"{file}: tensor '{tensor}': {problem}";
}
