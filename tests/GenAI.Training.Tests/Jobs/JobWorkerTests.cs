using System.Text;
using System.Text.Json;
using GenAI.Core.Checkpoints;
using GenAI.Training.Jobs;

namespace GenAI.Training.Tests.Jobs;

/// <summary>The worker loop on the fixture model: claim, train a few steps, publish, record; cancel and failure paths.</summary>
/// <remarks>Run once per store: <see cref="SqliteJobWorkerTests"/> and <see cref="PostgresJobWorkerTests"/>.</remarks>
public abstract class JobWorkerTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "genai-worker-" + Guid.NewGuid().ToString("N"));

    /// <summary>The database the stores and workers of this test share.</summary>
    protected abstract JobStoreConnection Connect(string dataRoot);

    private JobStoreConnection Connection => Connect(DataRoot);

    private IJobStore OpenStore() => Connection.OpenJobStore(DataRoot);

    private string DataRoot => Path.Combine(_root, "data");
    private string ModelsRoot => Path.Combine(_root, "models");

    internal static string TrainingText => string.Concat(Enumerable.Repeat("To be, or not to be, that is the question: whether 'tis nobler in the mind to suffer.\n", 80));

    private JobWorker Worker(string id = "test-worker", TimeSpan? heartbeat = null) => new(new JobWorkerOptions
    {
        DataRoot = DataRoot,
        ModelsRoot = ModelsRoot,
        WorkerId = id,
        JobStore = Connection,
        HeartbeatInterval = heartbeat ?? TimeSpan.FromMilliseconds(200),
        LeaseDuration = heartbeat is null ? TimeSpan.FromSeconds(5) : 3 * heartbeat.Value,
    }, TextWriter.Null);

    private static async Task<StoredFile> UploadAsync(IJobStore store, string text, string name = "train.txt") =>
        await new FileStore(store).SaveAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), name, FileStore.FineTunePurpose, 1 << 20, CancellationToken.None);

    private static JobRecord Job(StoredFile file, int maxSteps) => JobStoreTests.NewJob(TestPaths.Gpt2Tiny, new JobHyperparameters { MaxSteps = maxSteps, BatchSize = 2 })
        with { TrainingFile = file.Id, Suffix = "bard" };

    [SkippableFact]
    public async Task AWorkerTrainsPublishesAndRecordsTheJob()
    {
        using var store = OpenStore();
        var job = store.CreateJob(Job(await UploadAsync(store, TrainingText), maxSteps: 3));
        using var worker = Worker();

        Assert.True(await worker.RunOnceAsync(CancellationToken.None));
        Assert.False(await worker.RunOnceAsync(CancellationToken.None)); // nothing left

        var done = store.GetJob(job.Id)!;
        Assert.True(done.Status == JobStatus.Succeeded, done.Error?.Message);
        Assert.Equal(JobRunner.FineTunedModelName(done), done.FineTunedModel);
        Assert.StartsWith("gpt2-tiny-ft-bard-", done.FineTunedModel);
        Assert.True(ModelRepository.IsValidName(done.FineTunedModel));
        Assert.Equal(3, done.Plan?.Steps);
        Assert.Equal((2, 128), (done.Plan?.BatchSize, done.Plan?.BlockSize));
        Assert.Equal(3L * 2 * 128, done.TrainedTokens);

        // Published as a revision the server can serve, tokenizer and generation settings included.
        var repository = new ModelRepository(ModelsRoot);
        Assert.Equal(["rev-0001"], repository.Revisions(done.FineTunedModel!));
        string revision = Path.Combine(repository.ModelFolder(done.FineTunedModel!), ModelRepository.RevisionsFolder, "rev-0001");
        foreach (string file in new[] { "config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer_config.json" })
        {
            Assert.True(File.Exists(Path.Combine(revision, file)), file);
        }
        Assert.False(Directory.Exists(Path.Combine(DataRoot, "jobs", job.Id))); // working files cleaned up

        var events = store.EventsSince(job.Id, 0);
        var messages = events.Select(e => e.Message).ToList();
        Assert.StartsWith("Validating training file", messages[0]);
        Assert.StartsWith("Fine-tuning job started", messages[1]);
        Assert.Equal($"New fine-tuned model created: {done.FineTunedModel}", messages[^2]);
        Assert.Equal("The job has successfully completed", messages[^1]);
        var metrics = events.Where(e => e.Type == "metrics").Select(e => JsonDocument.Parse(e.Data!).RootElement).ToList();
        Assert.NotEmpty(metrics);
        Assert.Equal(3, metrics[^1].GetProperty("step").GetInt32());
        Assert.True(metrics[^1].GetProperty("train_loss").GetDouble() > 0);
        Assert.True(metrics[^1].TryGetProperty("learning_rate", out _));
    }

    [SkippableFact]
    public async Task AChatJobFineTunesALlamaFamilyModelWithItsOwnTemplate()
    {
        using var store = OpenStore();
        string line = """{"messages": [{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris."}]}""";
        var file = await UploadAsync(store, string.Join('\n', Enumerable.Repeat(line, 40)), "chat.jsonl");
        var job = store.CreateJob(JobStoreTests.NewJob(TestPaths.DecoderModel("qwen3-tiny"), new JobHyperparameters { MaxSteps = 2, BatchSize = 2 })
            with { TrainingFile = file.Id });
        using var worker = Worker();

        Assert.True(await worker.RunOnceAsync(CancellationToken.None));
        var done = store.GetJob(job.Id)!;
        Assert.True(done.Status == JobStatus.Succeeded, done.Error?.Message);
        var repository = new ModelRepository(ModelsRoot);
        string revision = Path.Combine(repository.ModelFolder(done.FineTunedModel!), ModelRepository.RevisionsFolder, "rev-0001");
        foreach (string name in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
        {
            Assert.True(File.Exists(Path.Combine(revision, name)), name);
        }
        Assert.Equal("qwen3", JsonDocument.Parse(File.ReadAllText(Path.Combine(revision, "config.json"))).RootElement.GetProperty("model_type").GetString());
        GenAI.Core.Models.ModelCheck.Run(revision); // loads, tokenizer and template included, and gives finite logits
    }

    [SkippableFact]
    public async Task ACancelAskedOfADeadWorkerEndsTheJobWhenAnotherClaimsIt()
    {
        using var store = OpenStore();
        var job = store.CreateJob(Job(await UploadAsync(store, TrainingText), maxSteps: 3));
        Assert.NotNull(store.TryClaim("dead-worker", TimeSpan.FromMilliseconds(200)));
        Assert.True(store.RequestCancel(job.Id)!.CancelRequested); // still leased: only asked
        await Task.Delay(300);

        using var worker = Worker();
        Assert.True(await worker.RunOnceAsync(CancellationToken.None));
        Assert.Equal(JobStatus.Cancelled, store.GetJob(job.Id)!.Status);
        Assert.Equal("Job cancelled", store.EventsSince(job.Id, 0)[^1].Message);
        Assert.False(Directory.Exists(ModelsRoot));
    }

    [SkippableFact]
    public async Task ARunningJobIsCancelledAtItsNextHeartbeat() =>
        await CancelOnceTrainingAsync(maxSteps: 100_000, Worker());

    [SkippableFact]
    public async Task ACancelTheHeartbeatNeverSawStillWinsOverPublishing() =>
        await CancelOnceTrainingAsync(maxSteps: 200, Worker(heartbeat: TimeSpan.FromHours(1))); // the job ends long before a heartbeat

    /// <summary>Runs a job on <paramref name="worker"/>, asks to cancel it at its first training step, and checks it ends cancelled with nothing published.</summary>
    private async Task CancelOnceTrainingAsync(int maxSteps, JobWorker worker)
    {
        using var store = OpenStore();
        var job = store.CreateJob(Job(await UploadAsync(store, TrainingText), maxSteps));
        using var _ = worker;
        var running = worker.RunOnceAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(300);
        while (!store.EventsSince(job.Id, 0).Any(e => e.Type == "metrics"))
        {
            Assert.False(running.IsCompleted, "the worker ended before training");
            Assert.True(DateTime.UtcNow < deadline, "no training step within 300 s");
            await Task.Delay(10);
        }
        Assert.True(store.RequestCancel(job.Id)!.CancelRequested);
        await running.WaitAsync(TimeSpan.FromSeconds(300));

        var cancelled = store.GetJob(job.Id)!;
        Assert.Equal(JobStatus.Cancelled, cancelled.Status);
        Assert.Null(cancelled.FineTunedModel);
        Assert.False(Directory.Exists(ModelsRoot));
    }

    [SkippableFact]
    public async Task AJobWhoseDataIsGoneFailsSayingWhich()
    {
        using var store = OpenStore();
        var file = await UploadAsync(store, TrainingText);
        var job = store.CreateJob(Job(file, maxSteps: 3));
        Assert.True(new FileStore(store).Delete(file.Id));

        using var worker = Worker();
        Assert.True(await worker.RunOnceAsync(CancellationToken.None));
        var failed = store.GetJob(job.Id)!;
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal("training_file", failed.Error?.Param);
        Assert.Contains(file.Id, failed.Error?.Message);
        Assert.Equal("error", store.EventsSince(job.Id, 0)[^1].Level);
    }

    [SkippableFact]
    public async Task TextTheModelCannotEncodeFailsTheJobNamingTheCharacter()
    {
        using var store = OpenStore();
        var file = await UploadAsync(store, string.Concat(Enumerable.Repeat("Café au lait, my lord.\n", 40)));
        string characterModel = Path.Combine(TestPaths.RepoRoot, "models", "tiny-shakespeare");
        var job = store.CreateJob(JobStoreTests.NewJob(characterModel, new JobHyperparameters { MaxSteps = 2 }) with { TrainingFile = file.Id });

        using var worker = Worker();
        Assert.True(await worker.RunOnceAsync(CancellationToken.None));
        var failed = store.GetJob(job.Id)!;
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal("training_file", failed.Error?.Param);
        Assert.Contains("'é'", failed.Error?.Message);
        Assert.False(Directory.Exists(Path.Combine(DataRoot, "jobs", job.Id)));
    }

    [SkippableFact]
    public async Task UploadsAreCheckedAsTrainingData()
    {
        using var store = OpenStore();
        var bad = await Assert.ThrowsAsync<InvalidDataException>(() => UploadAsync(store, "{\"text\": \"ok\"}\n\n{\"nope\": 1}\n", "data.jsonl"));
        Assert.Contains("line 3", bad.Message);
        Assert.Equal("purpose", (await Assert.ThrowsAsync<ArgumentException>(() =>
            new FileStore(store).SaveAsync(new MemoryStream([65]), "a.txt", "batch", 100, CancellationToken.None))).ParamName);
        await Assert.ThrowsAsync<FileTooLargeException>(() =>
            new FileStore(store).SaveAsync(new MemoryStream(new byte[101]), "a.txt", FileStore.FineTunePurpose, 100, CancellationToken.None));
        Assert.Empty(store.ListFiles());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(DataRoot, "files"))); // no temp files left behind
    }

    public virtual void Dispose()
    {
        GC.SuppressFinalize(this);
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}

/// <summary>The worker on SQLite (the default store in the data root).</summary>
[Collection(InProcessTraining.Name)]
public sealed class SqliteJobWorkerTests : JobWorkerTests
{
    protected override JobStoreConnection Connect(string dataRoot) => JobStoreConnection.Default(dataRoot);
}

/// <summary>The worker on PostgreSQL (skipped, saying why, without a server), one fresh schema per test.</summary>
[Collection(InProcessTraining.Name)]
public sealed class PostgresJobWorkerTests : JobWorkerTests
{
    private string? _database;

    protected override JobStoreConnection Connect(string dataRoot)
    {
        _database ??= PostgresServer.Require().CreateDatabase();
        return JobStoreConnection.Parse(_database, dataRoot);
    }

    public override void Dispose()
    {
        if (_database is not null) PostgresServer.Shared.DropDatabase(_database);
        base.Dispose();
    }
}
