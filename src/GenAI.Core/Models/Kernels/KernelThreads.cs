namespace GenAI.Core.Models.Kernels;

/// <summary>
/// Dedicated threads for the decode kernels. The .NET thread pool is also where request streams continue, so
/// under load a Parallel.For partition could wait behind them and the kernel would run on one core; these
/// threads do nothing else. The caller runs partition 0 itself.
/// </summary>
internal sealed class KernelThreads
{
    private static readonly Lazy<KernelThreads> Shared = new(() => new KernelThreads(Math.Max(0, TorchSharp.torch.get_num_threads() - 1)));
    private readonly SemaphoreSlim[] _go;
    private readonly ManualResetEventSlim _done = new(false);
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
            _remaining = partitions - 1;
            _done.Reset();
            for (int i = 1; i < partitions; i++) _go[i - 1].Release();
            body(0);
            _done.Wait();
            _body = null;
        }
    }

    private void Work(int index)
    {
        while (true)
        {
            _go[index].Wait();
            _body!(index + 1);
            if (Interlocked.Decrement(ref _remaining) == 0) _done.Set();
        }
    }
}
