using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace GenAI.Training.Tests;

/// <summary>The real worker process, killed with SIGKILL mid-run and started again with the same command.</summary>
public sealed partial class WorkerResumeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("genai-worker-").FullName;
    private readonly WorkerProcesses _workers = new();

    [Fact]
    public async Task AKilledRunResumesFromItsLastCheckpointAndFinishes()
    {
        string data = Path.Combine(_folder, "shakespeare.txt");
        File.WriteAllText(data, File.ReadAllText(TestPaths.TinyShakespeare)[..60_000]);
        string output = Path.Combine(_folder, "out");
        string[] args =
        [
            "train", "--data", data, "--out", output, "--n_layer", "1", "--n_head", "2", "--n_embd", "64", "--block_size", "32",
            "--batch_size", "8", "--max_iters", "400", "--lr_decay_iters", "400", "--warmup_iters", "10", "--eval_interval", "40",
            "--eval_iters", "10", "--checkpoint_interval", "20",
        ];

        var (first, firstOutput) = _workers.Start(args);
        string latest = Path.Combine(output, "checkpoint", TrainingCheckpoint.LatestFile);
        // Hang guards, not speed checks: a loaded 2-core machine trains this at ~250 tokens/s (a minute to step 60).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(300);
        while (!(File.Exists(latest) && int.Parse(File.ReadAllText(latest)["step-".Length..], CultureInfo.InvariantCulture) >= 60))
        {
            Assert.False(first.HasExited, $"the worker ended before checkpointing step 60:\n{firstOutput}");
            Assert.True(DateTime.UtcNow < deadline, $"no checkpoint past step 60 within 300 s:\n{firstOutput}");
            await Task.Delay(50);
        }
        // 400 iterations: a quiet machine runs ~100 a second, so the kill lands well before the end.
        Assert.False(first.HasExited, $"the worker finished before it could be killed mid-run:\n{firstOutput}");
        first.Kill(entireProcessTree: true); // SIGKILL: no chance to save anything more
        await first.WaitForExitAsync();
        first.WaitForExit(); // the overload without a timeout also waits for the output handlers to see the last lines
        double freshLoss = Losses(firstOutput.ToString())[0].Validation;

        var (second, secondOutput) = _workers.Start(args);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(300));
        await second.WaitForExitAsync(timeout.Token);
        string log = secondOutput.ToString();
        Assert.True(second.ExitCode == 0, log);
        int resumedFrom = int.Parse(ResumeLine().Match(log).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(resumedFrom >= 60, log);
        var losses = Losses(log);
        Assert.True(losses[0].Step > resumedFrom && losses[^1].Step == 400, log);
        // The trajectory continues: the first evaluation after resuming is far below an untrained model's loss.
        Assert.True(losses[0].Validation < freshLoss - 1.0, $"fresh {freshLoss}, resumed {losses[0].Validation}\n{log}");
        Assert.Contains("ms/iter", log);
        Assert.True(File.Exists(Path.Combine(output, "model.safetensors")));
    }

    private static List<(int Step, double Validation)> Losses(string log) =>
        EvaluationLine().Matches(log)
            .Select(m => (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)))
            .ToList();

    [GeneratedRegex(@"^step (\d+): train loss [\d.]+, val loss ([\d.]+)$", RegexOptions.Multiline)]
    private static partial Regex EvaluationLine();

    [GeneratedRegex(@"resuming from step (\d+)")]
    private static partial Regex ResumeLine();

    public void Dispose()
    {
        _workers.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
