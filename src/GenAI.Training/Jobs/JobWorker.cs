namespace GenAI.Training.Jobs;

/// <summary>Settings of a <see cref="JobWorker"/>.</summary>
public sealed record JobWorkerOptions
{
    /// <summary>Holds uploaded files, job checkpoints and (by default) the SQLite job store; shared by every worker and replica.</summary>
    public required string DataRoot { get; init; }
    /// <summary>The job store's database (<see cref="JobStoreConnection.Parse"/>); null: the SQLite file in <see cref="DataRoot"/>.</summary>
    public JobStoreConnection? JobStore { get; init; }
    /// <summary>Where fine-tuned models are published.</summary>
    public required string ModelsRoot { get; init; }
    /// <summary>This worker's lease owner id (unique per process).</summary>
    public string WorkerId { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}";
    /// <summary>Wait between looks for a job when there is none.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>How long a lease lasts without renewal: a dead worker's job is claimed again this long after its last heartbeat.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How often the lease is renewed (and a cancel request noticed).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>
/// The worker loop shared by the <c>GenAI.Worker run</c> process and the server's in-process worker: claim a job,
/// train it on a dedicated thread (TorchSharp state is per thread) while renewing the lease, repeat. A cancel
/// request stops the job as cancelled; stopping the worker checkpoints the job and gives it back to the queue.
/// </summary>
public sealed class JobWorker(JobWorkerOptions options, TextWriter log) : IDisposable
{
    private IJobStore? _store;

    /// <summary>This worker's settings.</summary>
    public JobWorkerOptions Options => options;

    /// <summary>Runs until <paramref name="stopping"/>; a job in progress is checkpointed and released first.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        log.WriteLine($"worker {options.WorkerId}: watching {Connection} for fine-tuning jobs");
        while (!stopping.IsCancellationRequested)
        {
            bool worked;
            try
            {
                worked = await RunOnceAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The store may be busy or briefly unreachable; the next poll tries again.
                log.WriteLine($"worker {options.WorkerId}: {e.Message}");
                worked = false;
            }
            if (worked) continue;
            try
            {
                await Task.Delay(options.PollInterval, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        log.WriteLine($"worker {options.WorkerId}: stopped");
    }

    /// <summary>Claims and runs one job; false when there was none.</summary>
    public async Task<bool> RunOnceAsync(CancellationToken stopping)
    {
        // The server creates the store with the first upload; until then there is nothing to do (and nothing to create).
        if (_store is null && !Connection.StoreExists) return false;
        var store = _store ??= Connection.OpenJobStore(options.DataRoot);
        var job = store.TryClaim(options.WorkerId, options.LeaseDuration);
        if (job is null) return false;
        log.WriteLine($"worker {options.WorkerId}: claimed {job.Id} ({job.Status}) on {job.Model}");
        if (job.CancelRequested)
        {
            Cancelled(store, job.Id);
            return true;
        }

        var runner = new JobRunner(store, options.ModelsRoot, log);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var training = Task.Factory.StartNew(() => runner.Run(job, options.WorkerId, stop.Token), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        bool cancelRequested = false, leaseLost = false;
        while (!training.IsCompleted)
        {
            // Heartbeats continue after a stop request, while the trainer writes its checkpoint.
            await Task.WhenAny(training, Task.Delay(options.HeartbeatInterval, CancellationToken.None)).ConfigureAwait(false);
            if (training.IsCompleted) break;
            switch (Renew(store, job.Id))
            {
                case null:
                    leaseLost = true;
                    stop.Cancel();
                    break;
                case true when !cancelRequested:
                    cancelRequested = true;
                    stop.Cancel();
                    break;
            }
        }

        var outcome = await training.ConfigureAwait(false);
        if ((outcome == JobOutcome.Stopped && cancelRequested) || outcome == JobOutcome.CancelRequested) Cancelled(store, job.Id);
        else if (outcome == JobOutcome.Stopped && !leaseLost)
        {
            store.Release(job.Id, options.WorkerId);
            store.AddEvent(job.Id, "info", $"Worker {options.WorkerId} stopped; the job is queued to resume from its last checkpoint");
        }
        else if (outcome == JobOutcome.LeaseLost || leaseLost) log.WriteLine($"worker {options.WorkerId}: lost the lease on {job.Id}");
        log.WriteLine($"worker {options.WorkerId}: {job.Id} {store.GetJob(job.Id)?.Status}");
        return true;
    }

    private bool? Renew(IJobStore store, string jobId)
    {
        try
        {
            return store.RenewLease(jobId, options.WorkerId, options.LeaseDuration);
        }
        catch (Exception e)
        {
            // A busy store for a moment is no reason to stop training; the lease outlasts several heartbeats.
            log.WriteLine($"worker {options.WorkerId}: heartbeat for {jobId} failed: {e.Message}");
            return false;
        }
    }

    private void Cancelled(IJobStore store, string jobId)
    {
        if (!store.MarkCancelled(jobId, options.WorkerId)) return;
        store.DeleteWorkFolder(jobId);
    }

    private JobStoreConnection Connection => options.JobStore ?? JobStoreConnection.Default(options.DataRoot);

    /// <inheritdoc />
    public void Dispose() => _store?.Dispose();
}
