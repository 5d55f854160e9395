using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using GenAI.Core.Checkpoints;
using GenAI.Training;
using GenAI.Training.Jobs;

namespace GenAI.Server.Tests;

/// <summary>
/// Scale-out, for real: two server processes (replicas A and B, no in-process worker) and two <c>GenAI.Worker run</c>
/// processes share one PostgreSQL job store, one data root and one models root. A fine-tuning job created on A is
/// claimed by one worker; that worker is killed (SIGKILL) after its first checkpoint, the other claims the job when the
/// lease runs out and finishes it from the checkpoint; the job is trained once and published once, both replicas
/// hot-load and serve the model, and both answer for the job, its file and its events. Skipped, saying why, on a
/// machine without PostgreSQL (see <see cref="PostgresServer"/>).
/// </summary>
public sealed class ScaleOutEndToEndTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("genai-scale-out-").FullName;
    private readonly List<ServerProcess> _servers = [];
    private readonly WorkerProcesses _workers = new(WorkerDll);
    private string? _database;

    private string DataRoot => Path.Combine(_root, "data");
    private string ModelsRoot => Path.Combine(_root, "models");

    [SkippableFact]
    public async Task AJobCreatedOnOneReplicaIsTrainedOnceAcrossAWorkerCrashAndServedByBoth()
    {
        _database = PostgresServer.Require().CreateDatabase();
        var environment = new Dictionary<string, string> { ["GenAI__ModelsPollSeconds"] = "1" };
        string[] serverArgs = ["--model", TestPaths.Gpt2Tiny, "--models-root", ModelsRoot, "--data-root", DataRoot, "--job-store", _database, "--in-process-worker", "false"];
        string dll = Path.Combine(AppContext.BaseDirectory, "GenAI.Server.dll");
        var starting = new[] { ServerProcess.StartAsync(dll, serverArgs, environment), ServerProcess.StartAsync(dll, serverArgs, environment) };
        try
        {
            await Task.WhenAll(starting); // both migrate the schema at start-up, at the same moment
        }
        finally
        {
            foreach (var start in starting) if (start.IsCompletedSuccessfully) _servers.Add(start.Result);
        }
        using var a = new HttpClient { BaseAddress = _servers[0].BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var b = new HttpClient { BaseAddress = _servers[1].BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        foreach (string id in new[] { "worker-1", "worker-2" }) StartWorker(id);

        // Upload to A, create the job on A; B answers for both at once.
        string text = string.Concat(Enumerable.Repeat("To be, or not to be, that is the question: whether 'tis nobler in the mind to suffer.\n", 80));
        using var form = new MultipartFormDataContent
        {
            { new StringContent("fine-tune"), "purpose" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(text)) { Headers = { ContentType = new MediaTypeHeaderValue("text/plain") } }, "file", "hamlet.txt" },
        };
        using var uploaded = await a.PostAsync("/v1/files", form);
        var file = JsonDocument.Parse(await uploaded.Content.ReadAsStringAsync()).RootElement;
        Assert.True(uploaded.IsSuccessStatusCode, file.ToString());
        string fileId = file.GetProperty("id").GetString()!;
        Assert.Equal("hamlet.txt", (await Http.GetAsync(b, $"/v1/files/{fileId}")).Body.GetProperty("filename").GetString());

        var created = await Http.PostAsync(a, "/v1/fine_tuning/jobs", $$"""
            {"model": "gpt2-tiny", "training_file": "{{fileId}}", "suffix": "scale", "seed": 5, "max_steps": 20,
             "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 50, "batch_size": 2} } } }
            """);
        Assert.True(created.Status == 200, created.Body.ToString());
        string jobId = created.Body.GetProperty("id").GetString()!;
        Assert.Equal(200, (await Http.GetAsync(b, $"/v1/fine_tuning/jobs/{jobId}")).Status);

        // The worker that claimed the job dies (no chance to release it) once it has a checkpoint to resume from.
        using var store = JobStoreConnection.Parse(_database, DataRoot).OpenJobStore(DataRoot);
        string latest = Path.Combine(DataRoot, "jobs", jobId, "checkpoint", TrainingCheckpoint.LatestFile);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        string? holder = null;
        while (holder is null || !File.Exists(latest))
        {
            holder = store.GetJob(jobId)!.LeaseOwner ?? holder;
            if (JobStatus.IsTerminal(store.GetJob(jobId)!.Status)) Assert.Fail($"the job ended before its first checkpoint:\n{Logs()}");
            if (DateTime.UtcNow > deadline) Assert.Fail($"no checkpoint within 4 minutes:\n{Logs()}");
            await Task.Delay(50);
        }
        int killedAt = int.Parse(File.ReadAllText(latest).Trim()["step-".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var (killed, killedOutput) = _workers.Started[holder == "worker-1" ? 0 : 1];
        var survivorOutput = _workers.Started[holder == "worker-1" ? 1 : 0].Output;
        killed.Kill(entireProcessTree: true);
        await killed.WaitForExitAsync();

        // B reports the outcome.
        JsonElement job;
        while ((job = (await Http.GetAsync(b, $"/v1/fine_tuning/jobs/{jobId}")).Body).GetProperty("status").GetString() is not ("succeeded" or "failed" or "cancelled"))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"the job did not finish within 4 minutes:\n{Logs()}");
            await Task.Delay(200);
        }
        if (job.GetProperty("status").GetString() != "succeeded") Assert.Fail($"{job}\n{Logs()}");
        string model = job.GetProperty("fine_tuned_model").GetString()!;

        // Trained exactly once: one start, one resume (on the other worker, from the checkpoint), one publish.
        var events = store.EventsSince(jobId, 0);
        string history = string.Join("\n", events.Select(e => e.Message));
        Assert.Single(events, e => e.Message.StartsWith("Fine-tuning job started", StringComparison.Ordinal));
        int resumed = events.ToList().FindIndex(e => e.Message == "Fine-tuning job resumed from its last checkpoint");
        Assert.True(resumed > 0, history);
        Assert.Single(events, e => e.Message == "The job has successfully completed");
        var stepsAfterResume = events.Skip(resumed).Where(e => e.Type == "metrics")
            .Select(e => JsonDocument.Parse(e.Data!).RootElement.GetProperty("step").GetInt32()).ToList();
        Assert.True(stepsAfterResume.Count > 0 && stepsAfterResume.Min() > killedAt && stepsAfterResume.Max() == 20, $"killed at {killedAt}; {history}");
        Assert.Equal(["rev-0001"], new ModelRepository(ModelsRoot).Revisions(model));
        Assert.Contains($"claimed {jobId}", Text(killedOutput));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(Text(survivorOutput), $"claimed {jobId}"));

        // Both replicas hot-load the revision another process published, and produce the same greedy text from it.
        var texts = new List<string>();
        foreach (var client in new[] { a, b })
        {
            (int Status, JsonElement Body) completion;
            while ((completion = await Http.PostAsync(client, "/v1/completions", $$"""{"model": "{{model}}", "prompt": "To be", "max_tokens": 4, "temperature": 0}""")).Status != 200)
            {
                if (DateTime.UtcNow > deadline) Assert.Fail($"{client.BaseAddress} does not serve {model}: {completion.Body}\n{Logs()}");
                await Task.Delay(250);
            }
            Assert.Equal(model, completion.Body.GetProperty("model").GetString());
            Assert.Equal("rev-0001", completion.Body.GetProperty("system_fingerprint").GetString());
            texts.Add(completion.Body.GetProperty("choices")[0].GetProperty("text").GetString()!);
        }
        Assert.Equal(texts[0], texts[1]);

        // Both replicas read the same events.
        var onA = await EventIds(a, jobId);
        Assert.Equal(events.Count, onA.Count);
        Assert.Equal(onA, await EventIds(b, jobId));
    }

    private static async Task<List<string>> EventIds(HttpClient client, string jobId)
    {
        var (status, body) = await Http.GetAsync(client, $"/v1/fine_tuning/jobs/{jobId}/events?limit=100");
        Assert.Equal(200, status);
        return body.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToList();
    }

    // The connection comes through the environment, as the container images pass it (no password on a command line).
    private void StartWorker(string id) =>
        _workers.Start(["run", "--models-root", ModelsRoot, "--data-root", DataRoot, "--worker-id", id, "--poll-seconds", "0.2", "--lease-seconds", "2"],
            new Dictionary<string, string> { ["GenAI__JobStore"] = _database! });

    /// <summary>The worker as built beside this test (same configuration and framework), in its own output folder.</summary>
    private static string WorkerDll
    {
        get
        {
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            return Path.Combine(TestPaths.RepoRoot, "src", "GenAI.Worker", "bin", framework.Parent!.Name, framework.Name, "GenAI.Worker.dll");
        }
    }

    private string Logs() =>
        string.Join("\n", _workers.Started.Select((w, i) => $"--- worker-{i + 1}:\n{Text(w.Output)}")) + string.Join("\n", _servers.Select((s, i) => $"--- server {i}:\n{s.Output}"));

    private static string Text(StringBuilder output)
    {
        lock (output) return output.ToString();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xunit 2 never calls the latter on a test class, and the processes would outlive the run.
    public async Task DisposeAsync()
    {
        _workers.Dispose();
        foreach (var server in _servers) await server.DisposeAsync();
        if (_database is not null) PostgresServer.Shared.DropDatabase(_database);
        Directory.Delete(_root, recursive: true);
    }
}
