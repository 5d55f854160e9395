using System.Diagnostics;

namespace GenAI.Core.Models.Kernels;

/// <summary>
/// Dedicated threads for the decode kernels. The .NET thread pool is also where request streams continue, so
/// under load a Parallel.For partition could wait behind them and the kernel would run on one core; these
/// threads do nothing else. The caller runs partition 0 itself.
/// </summary>
/// <remarks>
/// Waking a sleeping thread costs ~35 µs on the virtual machines this serves on, and a decode step runs one
/// kernel after every few libtorch ops (~100 per step), so both sides spin for <see cref="SpinTime"/> before they
/// sleep: through a decode step the workers stay awake, between steps they sleep. While spinning they yield, so a
/// libtorch worker that needs the core gets it.
/// </remarks>
internal sealed class KernelThreads
{
    /// <summary>How long a worker (and the caller, waiting for the workers) spins before it blocks.</summary>
    public static readonly TimeSpan SpinTime = TimeSpan.FromMicroseconds(400);

    private static readonly Lazy<KernelThreads> Shared = new(() => new KernelThreads(Math.Max(0, TorchSharp.torch.get_num_threads() - 1)));
    private static readonly long SpinTicks = (long)(SpinTime.TotalSeconds * Stopwatch.Frequency);
    private readonly SemaphoreSlim[] _go;
    private readonly ManualResetEventSlim _done = new(false, spinCount: 1);
    private readonly Lock _gate = new();
    private Action<int>? _body;
    private int _remaining;

    public KernelThreads(int workers)
    {
        _go = new SemaphoreSlim[workers];
        for (int i = 0; i < workers; i++)
        {
            _go[i] = new SemaphoreSlim(0);
            int index = i;
            new Thread(() => Work(index)) { IsBackground = true, Name = $"genai-kernel-{i + 1}" }.Start();
        }
    }

    /// <summary>The process's kernel threads: one fewer than libtorch's thread count, as the caller runs a partition too.</summary>
    public static KernelThreads Default => Shared.Value;

    /// <summary>Partitions the caller may ask for (workers + the caller).</summary>
    public int MaxPartitions => _go.Length + 1;

    /// <summary>Runs body(0..partitions-1) in parallel and returns when all are done.</summary>
    public void Run(int partitions, Action<int> body)
    {
        partitions = Math.Clamp(partitions, 1, MaxPartitions);
        if (partitions == 1)
        {
            body(0);
            return;
        }
        lock (_gate)
        {
            _body = body;
            Volatile.Write(ref _remaining, partitions - 1);
            _done.Reset();
            for (int i = 1; i < partitions; i++) _go[i - 1].Release();
            body(0);
            if (!SpinUntil(this, static threads => Volatile.Read(ref threads._remaining) == 0))
            {
                // The event only wakes this thread; the count decides. A worker that finished the previous call may set
                // the event after this call reset it (the caller returned on the count alone), so a wake is checked.
                while (Volatile.Read(ref _remaining) != 0)
                {
                    _done.Wait();
                    _done.Reset();
                }
            }
            _body = null;
        }
    }

    private void Work(int index)
    {
        var go = _go[index];
        while (true)
        {
            if (!SpinUntil(go, static semaphore => semaphore.CurrentCount > 0) || !go.Wait(0)) go.Wait();
            _body!(index + 1);
            if (Interlocked.Decrement(ref _remaining) == 0) _done.Set();
        }
    }

    // Spins (yielding the core to any other runnable thread) until the condition holds or SpinTime has passed.
    private static bool SpinUntil<TState>(TState state, Func<TState, bool> condition)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; ; i++)
        {
            if (condition(state)) return true;
            if (Stopwatch.GetTimestamp() - start > SpinTicks) return false;
            if ((i & 63) == 63) Thread.Yield();
            else Thread.SpinWait(8);
        }
    }
}
