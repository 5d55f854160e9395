using System.Text;
using GenAI.Training.Jobs;
using Microsoft.Extensions.Options;

namespace GenAI.Server.Hosting;

/// <summary>
/// The fine-tuning worker inside the server (<see cref="ServerOptions.InProcessWorker"/>, the single-machine default):
/// the same <see cref="JobWorker"/> loop as <c>GenAI.Worker run</c>, publishing into the server's models root.
/// On shutdown the job in progress is checkpointed and given back to the queue.
/// </summary>
public sealed class InProcessWorker(IOptions<ServerOptions> options, ILogger<InProcessWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.InProcessWorker) return;
        using var worker = new JobWorker(new JobWorkerOptions
        {
            DataRoot = ServerPaths.Resolve(o.DataRoot),
            ModelsRoot = ServerPaths.Resolve(o.ModelsRoot),
            JobStore = JobStores.Connection(o),
            WorkerId = $"server-{Environment.MachineName}-{Environment.ProcessId}",
        }, new LoggerWriter(logger));
        // Off the start-up path: the loop's first store access must not delay the server's start.
        await Task.Yield();
        await worker.RunAsync(stoppingToken);
    }

    /// <summary>The worker and trainer write lines of text; each becomes one log entry.</summary>
    private sealed class LoggerWriter(ILogger logger) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void WriteLine(string? value)
        {
            if (!string.IsNullOrEmpty(value)) logger.LogInformation("{WorkerLine}", value);
        }

        public override void Write(char value)
        {
            // Only whole lines are logged (the trainer writes whole lines).
        }
    }
}
