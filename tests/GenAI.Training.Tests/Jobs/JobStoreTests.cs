using GenAI.Training.Jobs;

namespace GenAI.Training.Tests.Jobs;

/// <summary>
/// The job store's behaviour, run once per implementation (<see cref="SqliteJobStoreTests"/>,
/// <see cref="PostgresJobStoreTests"/>): each test opens stores through <see cref="Open"/>, every call a new instance
/// on the same database, as separate processes would be.
/// </summary>
public abstract class JobStoreTests : IDisposable
{
    protected readonly string _root = Path.Combine(Path.GetTempPath(), "genai-jobs-" + Guid.NewGuid().ToString("N"));

    /// <summary>A new store instance on this test's database (files under <see cref="_root"/>).</summary>
    protected abstract IJobStore Open();

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

    [SkippableFact]
    public void ALeaseIsExclusiveUntilItRunsOutThenAnotherWorkerReclaimsTheJob()
    {
        using var store = Open();
        var created = store.CreateJob(NewJob());
        var lease = TimeSpan.FromMilliseconds(300);

        var claimed = store.TryClaim("worker-a", lease);
        Assert.Equal(created.Id, claimed?.Id);
        Assert.Equal("worker-a", claimed?.LeaseOwner);
        Assert.Null(store.TryClaim("worker-b", lease)); // held
        Assert.True(store.HoldsLease(created.Id, "worker-a"));
        Assert.False(store.HoldsLease(created.Id, "worker-b"));
        Assert.False(store.RenewLease(created.Id, "worker-a", lease)); // held, no cancel asked
        Assert.True(store.SetStatus(created.Id, "worker-a", JobStatus.Running));

        Thread.Sleep(450); // worker-a dies: no heartbeat
        var reclaimed = store.TryClaim("worker-b", lease);
        Assert.Equal(created.Id, reclaimed?.Id);
        Assert.Equal(JobStatus.Running, reclaimed?.Status); // the new owner sees it was running: it resumes
        Assert.Null(store.RenewLease(created.Id, "worker-a", lease)); // the old owner learns it lost the job
        Assert.False(store.HoldsLease(created.Id, "worker-a")); // and writes no more checkpoints
        Assert.False(store.Succeed(created.Id, "worker-a", "stale"));
        Assert.DoesNotContain(store.EventsSince(created.Id, 0), e => e.Message == "The job has successfully completed"); // no closing event either
        Assert.True(store.Succeed(created.Id, "worker-b", "gpt2-tiny-ft-x"));
        // The closing event is committed with the status: whoever sees the final status sees it.
        Assert.Equal(("info", "The job has successfully completed"), (store.EventsSince(created.Id, 0)[^1].Level, store.EventsSince(created.Id, 0)[^1].Message));

        var done = store.GetJob(created.Id)!;
        Assert.Equal(JobStatus.Succeeded, done.Status);
        Assert.Equal("gpt2-tiny-ft-x", done.FineTunedModel);
        Assert.Null(done.LeaseOwner);
        Assert.Null(store.TryClaim("worker-c", lease)); // finished jobs are never claimed
    }

    [SkippableFact]
    public void TwoConnectionsLikeTwoProcessesSeeOneState()
    {
        using var server = Open();
        using var worker = Open();
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
        Assert.Equal("Job cancelled", Assert.Single(server.EventsSince(job.Id, 0), e => e.Message.StartsWith("Job cancelled", StringComparison.Ordinal)).Message);

        // Files, events and plans written by one are read by the other.
        worker.AddFile(new StoredFile("file-abc", "data.txt", "fine-tune", 12, JobStore.Now, "files/file-abc.txt"));
        Assert.Equal("data.txt", server.GetFile("file-abc")?.Filename);
        worker.AddEvent(job.Id, "info", "metrics", "metrics", new { step = 3, train_loss = 1.5 });
        var latest = server.ListEvents(job.Id, null, 1).Events.Single();
        Assert.Equal("metrics", latest.Type);
        Assert.Equal("""{"step":3,"train_loss":1.5}""", latest.Data);
    }

    [SkippableFact]
    public void AJobNoWorkerHoldsIsCancelledAtOnce()
    {
        using var store = Open();
        var job = store.CreateJob(NewJob());
        var cancelled = store.RequestCancel(job.Id)!;
        Assert.Equal(JobStatus.Cancelled, cancelled.Status);
        Assert.NotNull(cancelled.FinishedAt);
        Assert.Null(store.TryClaim("w", TimeSpan.FromSeconds(5)));
        Assert.Equal("Job cancelled", store.ListEvents(job.Id, null, 10).Events.Single().Message);
        Assert.Null(store.RequestCancel("ftjob-missing"));
    }

    [SkippableFact]
    public void ListsAreNewestFirstWithAnAfterCursor()
    {
        using var store = Open();
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

    [SkippableFact]
    public void FilesAreRecordedListedNewestFirstAndForgotten()
    {
        using var store = Open();
        var older = new StoredFile("file-older", "a.txt", "fine-tune", 10, 1_700_000_000, "files/file-older.txt");
        var newer = new StoredFile("file-newer", "b.jsonl", "fine-tune", 20, 1_700_000_100, "files/file-newer.jsonl");
        store.AddFile(older);
        store.AddFile(newer);
        Assert.Equal([newer, older], store.ListFiles());
        Assert.Equal(older, store.DeleteFile("file-older"));
        Assert.Null(store.DeleteFile("file-older"));
        Assert.Null(store.GetFile("file-older"));
        Assert.Equal([newer], store.ListFiles());
    }

    [SkippableFact]
    public void ConcurrentWorkersClaimEveryJobExactlyOnce()
    {
        using var creator = Open();
        var ids = Enumerable.Range(0, 24).Select(_ => creator.CreateJob(NewJob()).Id).ToHashSet();
        var claims = new System.Collections.Concurrent.ConcurrentBag<(string Worker, string Job)>();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, w =>
        {
            using var store = Open();
            while (store.TryClaim($"worker-{w}", TimeSpan.FromMinutes(5)) is { } job)
            {
                claims.Add(($"worker-{w}", job.Id));
                Assert.True(store.Succeed(job.Id, $"worker-{w}", "done")); // finished: never claimed again
            }
        });
        Assert.Equal(ids.Count, claims.Count);
        Assert.Equal(ids.OrderBy(i => i), claims.Select(c => c.Job).OrderBy(i => i));
    }

    [SkippableFact]
    public void AReleasedJobIsQueuedAndClaimedAgainWithItsPlan()
    {
        using var store = Open();
        var job = store.CreateJob(NewJob() with { Metadata = new Dictionary<string, string> { ["team"] = "bard" } });
        Assert.NotNull(store.TryClaim("a", TimeSpan.FromMinutes(1)));
        var plan = FineTuningPlan.Resolve(new JobHyperparameters { MaxSteps = 4, BatchSize = 2 }, 9000, 1000, 128);
        Assert.True(store.SetPlan(job.Id, "a", plan, 1024));
        Assert.True(store.Release(job.Id, "a"));
        Assert.False(store.Release(job.Id, "a"));
        var again = store.TryClaim("b", TimeSpan.FromMinutes(1))!;
        Assert.Equal((job.Id, JobStatus.Queued, "b"), (again.Id, again.Status, again.LeaseOwner));
        Assert.Equal(plan, again.Plan);
        Assert.Equal(1024, again.TrainedTokens);
        Assert.Equal("bard", again.Metadata!["team"]);
        Assert.True(store.Fail(job.Id, "b", new JobError("training_error", "boom", null)));
        var failed = store.GetJob(job.Id)!;
        Assert.Equal((JobStatus.Failed, "boom"), (failed.Status, failed.Error?.Message));
        Assert.Equal(("error", "Fine-tuning job failed: boom"), (store.EventsSince(job.Id, 0)[^1].Level, store.EventsSince(job.Id, 0)[^1].Message));
        var unchanged = store.RequestCancel(job.Id)!; // a finished job is left alone
        Assert.Equal((JobStatus.Failed, false), (unchanged.Status, unchanged.CancelRequested));
    }

    public virtual void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        GC.SuppressFinalize(this);
    }
}

/// <summary>The job-store suite on SQLite (the default: <c>genai.db</c> in the data root).</summary>
public sealed class SqliteJobStoreTests : JobStoreTests
{
    protected override IJobStore Open() => JobStoreConnection.Parse(null, _root).OpenJobStore(_root);
}

/// <summary>
/// The job-store suite on a real PostgreSQL server (<see cref="PostgresServer"/>: <c>GENAI_TEST_POSTGRES</c> or a
/// throw-away cluster; skipped, saying why, on a machine with neither), one fresh schema per test.
/// </summary>
public sealed class PostgresJobStoreTests : JobStoreTests
{
    private string? _database;

    protected override IJobStore Open()
    {
        var server = PostgresServer.Require();
        _database ??= server.CreateDatabase();
        return JobStoreConnection.Parse(_database, _root).OpenJobStore(_root);
    }

    [SkippableFact]
    public void ProcessesStartingTogetherMigrateTheSchemaOnceAndAgainIsANoOp()
    {
        var server = PostgresServer.Require();
        _database = server.CreateDatabase();
        // Eight stores opening at once on an empty schema, as eight replicas starting together would.
        var stores = new IJobStore[8];
        Parallel.For(0, stores.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => stores[i] = Open());
        using (var again = Open())
        {
            again.CreateJob(NewJob());
        }
        foreach (var store in stores) store.Dispose();
        using var c = new Npgsql.NpgsqlConnection(_database);
        c.Open();
        using var command = new Npgsql.NpgsqlCommand("SELECT COUNT(*), MAX(version) FROM genai_schema_migrations", c);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal((PostgresJobStore.SchemaVersion, PostgresJobStore.SchemaVersion), ((int)reader.GetInt64(0), reader.GetInt32(1)));
    }

    public override void Dispose()
    {
        if (_database is not null) PostgresServer.Shared.DropDatabase(_database);
        base.Dispose();
    }
}
