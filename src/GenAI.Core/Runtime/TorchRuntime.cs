using System.Runtime.InteropServices;
using GenAI.Build;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Runtime;

/// <summary>TorchSharp's native library could not be loaded; the message says why in one sentence.</summary>
public sealed class TorchUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>Loads TorchSharp's native library once and explains a failure instead of TorchSharp's misleading message.</summary>
public static class TorchRuntime
{
    private static readonly Lazy<Exception?> LoadFailure = new(TryLoad, LazyThreadSafetyMode.ExecutionAndPublication);
    private static string _waitPolicy = "PASSIVE";

    /// <summary>
    /// Ensures libtorch is usable; throws <see cref="TorchUnavailableException"/> otherwise. The first call loads it;
    /// <paramref name="spinningWorkers"/> (training: back-to-back libtorch ops) keeps libtorch's OpenMP workers
    /// spinning between ops instead of sleeping (serving: GenAI's own decode kernels run between ops).
    /// </summary>
    public static void EnsureAvailable(bool spinningWorkers = false)
    {
        if (!LoadFailure.IsValueCreated && spinningWorkers) _waitPolicy = "ACTIVE";
        if (LoadFailure.Value is { } failure) throw failure;
    }

    // libtorch's OpenMP workers spin after every parallel op by default; on a few cores they then steal the CPU from
    // the decode kernels (Models.Kernels.SkinnyMatmul) that run between libtorch ops, which halved decode speed here.
    // Sleeping workers cost a little prefill speed, and training (libtorch ops only) ~35%: it asks for spinning ones.
    // A value the user set wins.
    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi)]
    private static extern int SetNativeEnvironment(string name, string value, int overwrite);

    // glibc raises its mmap threshold (up to 32 MiB) each time a large block is freed, so a burst of prefill passes
    // leaves its 1-4 MiB temporaries in the heap for good: +1.4 GiB of RSS on a SmolLM2-360M-shaped server after eight
    // concurrent 128-token prompts, +0.2 GiB with the threshold fixed at 1 MiB. Serving only: training reuses its large
    // blocks every step and would pay page faults instead. A value the user set (MALLOC_MMAP_THRESHOLD_) wins.
    private const int MallocMmapThreshold = -3; // M_MMAP_THRESHOLD
    private const int ServingMmapThreshold = 1 << 20;

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallocOption(int option, int value);

    private static void FixMmapThresholdForServing()
    {
        if (!OperatingSystem.IsLinux() || _waitPolicy == "ACTIVE" || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null) return;
        try
        {
            MallocOption(MallocMmapThreshold, ServingMmapThreshold);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // not glibc: its allocator has its own policy
        }
    }

    private static Exception? TryLoad()
    {
        try
        {
            // Must reach the native environment before libgomp loads with libtorch (it reads it once, at load).
            if (!OperatingSystem.IsWindows() && Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
            {
                SetNativeEnvironment("OMP_WAIT_POLICY", _waitPolicy, 0);
            }
            FixMmapThresholdForServing();
            InitializeDeviceType(DeviceType.CPU);
            return null;
        }
        catch (Exception e)
        {
            return new TorchUnavailableException(Explain(e), e);
        }
    }

    private static string Explain(Exception e)
    {
        try
        {
            string? native = FindNativeLibrary();
            string? libstdcxx = ElfVersionNeeds.FindSystemLibStdCxx();
            if (native is not null && libstdcxx is not null)
            {
                var provided = ElfVersionNeeds.ReadDefinitions(File.ReadAllBytes(libstdcxx));
                var missing = ElfVersionNeeds.MissingLibStdCxxNeeds(File.ReadAllBytes(native), provided);
                if (missing.Count > 0)
                {
                    return $"TorchSharp's native library {native} needs {string.Join(", ", missing.Select(m => m.Version))} from libstdc++, " +
                           $"which {libstdcxx} does not provide: rebuild with 'dotnet build' or 'dotnet publish' of this repository " +
                           "(its build adapts the library to this libstdc++) or install a newer libstdc++ (GCC 13 or later).";
                }
            }
        }
        catch (Exception diagnosis) when (diagnosis is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException)
        {
            // fall through to the general message
        }
        return $"TorchSharp's native library (libtorch) could not be loaded: {e.Message}";
    }

    private static string? FindNativeLibrary()
    {
        string root = AppContext.BaseDirectory;
        string direct = Path.Combine(root, "libLibTorchSharp.so");
        if (File.Exists(direct)) return direct;
        string runtimes = Path.Combine(root, "runtimes");
        return Directory.Exists(runtimes)
            ? Directory.EnumerateFiles(runtimes, "libLibTorchSharp.so", SearchOption.AllDirectories).FirstOrDefault()
            : null;
    }
}
