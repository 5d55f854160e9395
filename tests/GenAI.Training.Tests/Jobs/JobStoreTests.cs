using GenAI.Training.Jobs;

namespace GenAI.Training.Tests.Jobs;

public sealed class JobStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "genai-jobs-" + Guid.NewGuid().ToString("N"));

    internal static JobRecord NewJob(string? modelFolder = null, JobHyperparameters? hyperparameters = null) => new()
    {
        Id = JobStore.NewId("ftjob"),
        CreatedAt = JobStore.Now,
        Model = "gpt2-tiny",
        ModelFolder = modelFolder ?? "/nowhere",
        TrainingFile = "file-x",
        Hyperparameters = hyperparameters ?? new(),
        Seed = 42,
        Status = JobStatus.ValidatingFiles,
    };

    [Fact]
    public void ALeaseIsExclusiveUntilItRunsOutThenAnotherWorkerReclaimsTheJob()
    {
        using var store = new JobStore(_root);
        var created = store.CreateJob(NewJob());
        var lease = TimeSpan.FromMilliseconds(300);

        var claimed = store.TryClaim("worker-a", lease);
        Assert.Equal(created.Id, claimed?.Id);
        Assert.Equal("worker-a", claimed?.LeaseOwner);
        Assert.Null(store.TryClaim("worker-b", lease)); // held
        Assert.False(store.RenewLease(created.Id, "worker-a", lease)); // held, no cancel asked
        Assert.True(store.SetStatus(created.Id, "worker-a", JobStatus.Running));

        Thread.Sleep(450); // worker-a dies: no heartbeat
        var reclaimed = store.TryClaim("worker-b", lease);
        Assert.Equal(created.Id, reclaimed?.Id);
        Assert.Equal(JobStatus.Running, reclaimed?.Status); // the new owner sees it was running: it resumes
        Assert.Null(store.RenewLease(created.Id, "worker-a", lease)); // the old owner learns it lost the job
        Assert.False(store.Succeed(created.Id, "worker-a", "stale"));
        Assert.True(store.Succeed(created.Id, "worker-b", "gpt2-tiny-ft-x"));

        var done = store.GetJob(created.Id)!;
        Assert.Equal(JobStatus.Succeeded, done.Status);
        Assert.Equal("gpt2-tiny-ft-x", done.FineTunedModel);
        Assert.Null(done.LeaseOwner);
        Assert.Null(store.TryClaim("worker-c", lease)); // finished jobs are never claimed
    }

    [Fact]
    public void TwoConnectionsLikeTwoProcessesSeeOneState()
    {
        using var server = new JobStore(_root);
        using var worker = new JobStore(_root);
        var job = server.CreateJob(NewJob());
        var claimed = worker.TryClaim("w", TimeSpan.FromSeconds(30));
        Assert.Equal(job.Id, claimed?.Id);
        Assert.Equal("w", server.GetJob(job.Id)?.LeaseOwner);

        // A cancel through the server reaches the worker at its next heartbeat; the job stays the worker's until it stops.
        var afterCancel = server.RequestCancel(job.Id)!;
        Assert.True(afterCancel.CancelRequested);
        Assert.Equal(JobStatus.ValidatingFiles, afterCancel.Status);
        Assert.True(worker.RenewLease(job.Id, "w", TimeSpan.FromSeconds(30)));
        Assert.True(worker.MarkCancelled(job.Id, "w"));
        Assert.Equal(JobStatus.Cancelled, server.GetJob(job.Id)?.Status);

        // Files, events and plans written by one are read by the other.
        worker.AddFile(new StoredFile("file-abc", "data.txt", "fine-tune", 12, JobStore.Now, "files/file-abc.txt"));
        Assert.Equal("data.txt", server.GetFile("file-abc")?.Filename);
        worker.AddEvent(job.Id, "info", "metrics", "metrics", new { step = 3, train_loss = 1.5 });
        var latest = server.ListEvents(job.Id, null, 1).Events.Single();
        Assert.Equal("metrics", latest.Type);
        Assert.Equal("""{"step":3,"train_loss":1.5}""", latest.Data);
    }

    [Fact]
    public void AJobNoWorkerHoldsIsCancelledAtOnce()
    {
        using var store = new JobStore(_root);
        var job = store.CreateJob(NewJob());
        var cancelled = store.RequestCancel(job.Id)!;
        Assert.Equal(JobStatus.Cancelled, cancelled.Status);
        Assert.NotNull(cancelled.FinishedAt);
        Assert.Null(store.TryClaim("w", TimeSpan.FromSeconds(5)));
        Assert.Equal("Job cancelled", store.ListEvents(job.Id, null, 10).Events.Single().Message);
        Assert.Null(store.RequestCancel("ftjob-missing"));
    }

    [Fact]
    public void ListsAreNewestFirstWithAnAfterCursor()
    {
        using var store = new JobStore(_root);
        var ids = Enumerable.Range(0, 5).Select(_ => store.CreateJob(NewJob()).Id).ToList();
        var (first, more) = store.ListJobs(null, 2);
        Assert.Equal([ids[4], ids[3]], first.Select(j => j.Id));
        Assert.True(more);
        var (rest, noMore) = store.ListJobs(first[^1].Id, 10);
        Assert.Equal([ids[2], ids[1], ids[0]], rest.Select(j => j.Id));
        Assert.False(noMore);

        for (int i = 0; i < 3; i++) store.AddEvent(ids[0], "info", $"event {i}");
        var (events, _) = store.ListEvents(ids[0], null, 2);
        Assert.Equal(["event 2", "event 1"], events.Select(e => e.Message));
        Assert.Equal(["event 0"], store.ListEvents(ids[0], events[^1].Id, 2).Events.Select(e => e.Message));
        Assert.Equal(["event 1", "event 2"], store.EventsSince(ids[0], store.EventsSince(ids[0], 0)[0].Sequence).Select(e => e.Message));
    }

    [Fact]
    public void AutoHyperparametersAreResolvedFromTheData()
    {
        var plan = FineTuningPlan.Resolve(new JobHyperparameters(), trainTokens: 9000, validationTokens: 1000, contextLength: 128);
        Assert.Equal(128, plan.BlockSize); // the model's context, below the 256 cap
        Assert.Equal(FineTuningPlan.AutoEpochs, plan.NEpochs);
        Assert.Equal(7, plan.BatchSize); // 70 windows / 10
        Assert.Equal((int)Math.Ceiling(3.0 * 9000 / (7 * 128)), plan.Steps);
        Assert.Equal(FineTuningPlan.BaseLearningRate, plan.LearningRate);

        var capped = FineTuningPlan.Resolve(new JobHyperparameters { NEpochs = 2, BatchSize = 2, LearningRateMultiplier = 0.5, MaxSteps = 5 }, 9000, 1000, 1024);
        Assert.Equal((2, 2, 5, 256), (capped.NEpochs, capped.BatchSize, capped.Steps, capped.BlockSize));
        Assert.Equal(5e-5, capped.LearningRate, 12);
        Assert.Equal(5, capped.ToTrainingOptions(1).MaxIters);

        Assert.Equal(48, FineTuningPlan.Resolve(new(), 500, 50, 128).BlockSize); // the validation split bounds the window
        Assert.Throws<InvalidDataException>(() => FineTuningPlan.Resolve(new(), 500, 5, 128));
        Assert.Equal("hyperparameters.n_epochs", Assert.Throws<ArgumentException>(() => FineTuningPlan.Validate(new() { NEpochs = 0 })).ParamName);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
