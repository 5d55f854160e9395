using System.Runtime.InteropServices;
using GenAI.Core.Runtime;
using GenAI.Training.Jobs;

namespace GenAI.Worker;

/// <summary>
/// <c>run</c>: the fine-tuning worker process. Claims jobs from the store in the data root, trains them and publishes
/// the models under the models root, until SIGTERM or Ctrl+C (the job in progress is checkpointed and released).
/// The store is <c>--job-store</c>, else the environment's <c>GenAI__JobStore</c> (the server's setting, so a password
/// need not appear on a command line), else <c>genai.db</c> in the data root.
/// </summary>
internal static class RunCommand
{
    public static int Run(string[] args)
    {
        string? modelsRoot = null, dataRoot = null, workerId = null, jobStore = Environment.GetEnvironmentVariable("GenAI__JobStore");
        double pollSeconds = 2, leaseSeconds = 30;
        foreach (var (name, value) in Arguments.Pairs(args))
        {
            switch (name)
            {
                case "models-root": modelsRoot = value; break;
                case "data-root": dataRoot = value; break;
                case "worker-id": workerId = value; break;
                case "job-store": jobStore = value; break;
                case "poll-seconds": pollSeconds = Arguments.Seconds(name, value, 0.01, 3600); break;
                case "lease-seconds": leaseSeconds = Arguments.Seconds(name, value, 1, 3600); break;
                default: throw new ArgumentException($"unknown option --{name} (known: --models-root, --data-root, --job-store, --worker-id, --poll-seconds, --lease-seconds)");
            }
        }
        if (modelsRoot is null || dataRoot is null) throw new ArgumentException("--models-root DIR and --data-root DIR are required");
        TorchRuntime.EnsureAvailable(spinningWorkers: true);

        var options = new JobWorkerOptions
        {
            ModelsRoot = Path.GetFullPath(modelsRoot),
            DataRoot = Path.GetFullPath(dataRoot),
            JobStore = JobStoreConnection.Parse(jobStore, dataRoot),
            PollInterval = TimeSpan.FromSeconds(pollSeconds),
            // How long a dead worker's job waits before another claims it; heartbeats renew it ten times as often.
            LeaseDuration = TimeSpan.FromSeconds(leaseSeconds),
            HeartbeatInterval = TimeSpan.FromSeconds(Math.Min(3, leaseSeconds / 10)),
        };
        if (workerId is not null) options = options with { WorkerId = workerId };
        using var stop = new CancellationTokenSource();
        // SIGTERM (docker stop) and Ctrl+C stop the loop instead of the process: the job is checkpointed and released first.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var worker = new JobWorker(options, Console.Out);
        worker.RunAsync(stop.Token).GetAwaiter().GetResult();
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }
}
