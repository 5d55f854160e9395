using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Runtime;

/// <summary>Turns a device setting (<c>auto</c>, <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>) into a TorchSharp device.</summary>
public static class ComputeDevice
{
    /// <summary>
    /// Resolves <paramref name="spec"/>: <c>auto</c> picks CUDA when available, else the CPU; <c>cuda[:N]</c> requires
    /// that GPU. Throws <see cref="ArgumentException"/> with the reason otherwise.
    /// </summary>
    public static Device Resolve(string spec)
    {
        TorchRuntime.EnsureAvailable();
        string value = (spec ?? "auto").Trim().ToLowerInvariant();
        if (value is "" or "auto") return cuda.is_available() ? CUDA : CPU;
        if (value == "cpu") return CPU;
        if (value == "cuda" || value.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (value.Length > 4 && (!int.TryParse(value.AsSpan(5), out index) || index < 0))
            {
                throw new ArgumentException($"device '{spec}': the GPU index must be a non-negative integer (cuda:0, cuda:1, ...)", nameof(spec));
            }
            if (!cuda.is_available())
            {
                throw new ArgumentException($"device '{spec}': CUDA is not available (this build uses TorchSharp-cpu, or no GPU/driver was found); use 'cpu' or 'auto'", nameof(spec));
            }
            int count = cuda.device_count();
            if (index >= count) throw new ArgumentException($"device '{spec}': only {count} CUDA device(s) are present", nameof(spec));
            return new Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"device '{spec}' is not one of auto, cpu, cuda, cuda:N", nameof(spec));
    }
}
