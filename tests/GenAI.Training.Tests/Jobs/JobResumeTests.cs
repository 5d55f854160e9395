using System.Text;
using GenAI.Core.Checkpoints;
using GenAI.Training.Jobs;

namespace GenAI.Training.Tests.Jobs;

/// <summary>
/// Real <c>GenAI.Worker run</c> processes sharing one job store: the worker training a job is killed with SIGKILL,
/// its lease runs out, and a second worker claims the job and finishes it from the last checkpoint.
/// </summary>
public sealed class JobResumeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("genai-job-resume-").FullName;
    private readonly WorkerProcesses _workers = new();

    private string DataRoot => Path.Combine(_root, "data");
    private string ModelsRoot => Path.Combine(_root, "models");

    private string[] RunArgs(string id) =>
        ["run", "--models-root", ModelsRoot, "--data-root", DataRoot, "--worker-id", id, "--poll-seconds", "0.2", "--lease-seconds", "2"];

    [Fact]
    public async Task AKilledWorkersJobIsClaimedAgainAndResumesFromItsLastCheckpoint()
    {
        using var store = new SqliteJobStore(DataRoot);
        var file = await new FileStore(store).SaveAsync(new MemoryStream(Encoding.UTF8.GetBytes(JobWorkerTests.TrainingText)), "hamlet.txt",
            FileStore.FineTunePurpose, 1 << 20, CancellationToken.None);
        var job = store.CreateJob(JobStoreTests.NewJob(TestPaths.Gpt2Tiny,
            new JobHyperparameters { NEpochs = 50, MaxSteps = 30, BatchSize = 2, PublishCheckpoints = true }) with { TrainingFile = file.Id, Suffix = "resume" });
        string latest = Path.Combine(_root, "data", "jobs", job.Id, "checkpoint", TrainingCheckpoint.LatestFile);

        var (first, firstOutput) = _workers.Start(RunArgs("first"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(240);
        int killedAfter;
        while (!(File.Exists(latest) && (killedAfter = int.Parse(File.ReadAllText(latest).Trim()["step-".Length..])) >= 10))
        {
            Assert.False(first.HasExited, $"the worker ended early:\n{firstOutput}");
            Assert.False(JobStatus.IsTerminal(store.GetJob(job.Id)!.Status), $"the job ended before step 10:\n{firstOutput}");
            Assert.True(DateTime.UtcNow < deadline, $"no checkpoint past step 10 within 240 s:\n{firstOutput}");
            await Task.Delay(50);
        }
        first.Kill(entireProcessTree: true); // SIGKILL: the job stays leased to a dead worker until the lease runs out
        await first.WaitForExitAsync();
        Assert.Equal(JobStatus.Running, store.GetJob(job.Id)!.Status);

        var (_, secondOutput) = _workers.Start(RunArgs("second"));
        JobRecord done;
        while (!JobStatus.IsTerminal((done = store.GetJob(job.Id)!).Status))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the job did not finish within 240 s:\nfirst:\n{firstOutput}\nsecond:\n{secondOutput}");
            await Task.Delay(100);
        }
        Assert.True(done.Status == JobStatus.Succeeded, $"{done.Status} {done.Error?.Message}\n{secondOutput}");

        var events = store.EventsSince(job.Id, 0).ToList();
        int resumed = events.FindIndex(e => e.Message == "Fine-tuning job resumed from its last checkpoint");
        Assert.True(resumed > 0, string.Join("\n", events.Select(e => e.Message)));
        var stepsAfter = events.Skip(resumed).Where(e => e.Type == "metrics").Select(e => System.Text.Json.JsonDocument.Parse(e.Data!).RootElement.GetProperty("step").GetInt32()).ToList();
        Assert.True(stepsAfter.Count > 0 && stepsAfter.Min() >= killedAfter, $"resumed at {killedAfter}, then steps {string.Join(", ", stepsAfter)}");
        Assert.Equal(30, stepsAfter.Max());

        // publish_checkpoints: the fine-tuned model had revisions while it trained; the final one is current.
        var repository = new ModelRepository(ModelsRoot);
        var revisions = repository.Revisions(done.FineTunedModel!);
        Assert.True(revisions.Count >= 2, string.Join(", ", revisions));
        Assert.Equal(revisions[^1], ModelRepository.Locate(repository.ModelFolder(done.FineTunedModel!))!.Revision);
        Assert.Contains(events, e => e.Message.StartsWith("Checkpoint step-", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        _workers.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
