using GenAI.Core.Tokenization;

namespace GenAI.Training.Tests;

[Collection(InProcessTraining.Name)]
public sealed class CheckpointTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("genai-ckpt-").FullName;

    private static readonly string Text = string.Concat(Enumerable.Repeat("To be, or not to be, that is the question.\n", 60));

    private static readonly TrainingOptions Options = new()
    {
        NLayer = 1, NHead = 2, NEmbd = 32, BlockSize = 32, BatchSize = 8, MaxIters = 40, LrDecayIters = 40,
        WarmupIters = 5, LearningRate = 3e-3, EvalInterval = 10, EvalIters = 4, Seed = 7, Dropout = 0.1,
    };

    private TrainingResult Train(string name, TrainingRun? run, StringWriter? log = null)
    {
        var tokenizer = CharTokenizer.FromCorpus(Text);
        using var data = TokenDataset.FromText(Text, tokenizer);
        using var model = Trainer.CreateModel(Options, tokenizer);
        return Trainer.Train(model, tokenizer, data, Options, Path.Combine(_folder, name), log ?? new StringWriter(), run);
    }

    [Fact]
    public void ACancelledRunResumesExactlyWhereItStopped()
    {
        var uninterrupted = Train("whole", null);

        string checkpoints = Path.Combine(_folder, "checkpoint");
        using var cancel = new CancellationTokenSource();
        var reports = new List<TrainingProgress>();
        var stopAt15 = new TrainingRun
        {
            CheckpointFolder = checkpoints,
            CheckpointInterval = 0,
            Cancellation = cancel.Token,
            Progress = new SynchronousProgress(p => { reports.Add(p); if (p.Step == 15) cancel.Cancel(); }),
        };
        Assert.ThrowsAny<OperationCanceledException>(() => Train("first", stopAt15));
        Assert.EndsWith("step-0000015", TrainingCheckpoint.LatestFolder(checkpoints));
        Assert.Equal(Enumerable.Range(1, 15), reports.Where(r => r.Evaluation is null).Select(r => r.Step));
        Assert.Equal([0, 10], reports.Where(r => r.Evaluation is not null).Select(r => r.Step));

        var log = new StringWriter();
        var resumed = Train("second", new TrainingRun { CheckpointFolder = checkpoints }, log);
        Assert.Contains("resuming from step 15", log.ToString());
        Assert.DoesNotContain("step 10: train loss", log.ToString());
        Assert.Equal(40, resumed.Iterations);
        Assert.Equal(uninterrupted.Evaluations.Select(e => e.Step), resumed.Evaluations.Select(e => e.Step));
        // Same weights, optimizer moments and random streams: the same losses, up to float reduction order.
        foreach (var (a, b) in uninterrupted.Evaluations.Zip(resumed.Evaluations))
        {
            Assert.Equal(a.TrainLoss, b.TrainLoss, 4);
            Assert.Equal(a.ValidationLoss, b.ValidationLoss, 4);
        }
        Assert.EndsWith("step-0000040", TrainingCheckpoint.LatestFolder(checkpoints));
        Assert.Single(Directory.GetDirectories(checkpoints));
        Assert.True(File.Exists(Path.Combine(checkpoints, "loss_curve.svg")));
    }

    [Fact]
    public void ALeftoverHalfWrittenCheckpointIsIgnoredAndOtherOptionsAreRefused()
    {
        string checkpoints = Path.Combine(_folder, "checkpoint");
        Train("first", new TrainingRun { CheckpointFolder = checkpoints, CheckpointInterval = 25 });
        string latest = TrainingCheckpoint.LatestFolder(checkpoints)!;
        Assert.EndsWith("step-0000040", latest);

        // A crash while writing the next checkpoint leaves a temporary folder that "latest" does not name.
        var crashed = Directory.CreateDirectory(Path.Combine(checkpoints, ".step-0000050.tmp-1"));
        File.WriteAllText(Path.Combine(crashed.FullName, "model.safetensors"), "partial");
        var log = new StringWriter();
        Train("again", new TrainingRun { CheckpointFolder = checkpoints }, log);
        Assert.Contains("resuming from step 40", log.ToString());

        var tokenizer = CharTokenizer.FromCorpus(Text);
        using var data = TokenDataset.FromText(Text, tokenizer);
        using var model = Trainer.CreateModel(Options, tokenizer);
        var e = Assert.Throws<ArgumentException>(() => Trainer.Train(model, tokenizer, data, Options with { MaxIters = 80 }, Path.Combine(_folder, "x"),
            new StringWriter(), new TrainingRun { CheckpointFolder = checkpoints }));
        Assert.Contains("other options", e.Message);
    }

    [Fact]
    public void TheProgressBarKeepsLogLinesAboveIt()
    {
        var output = new StringWriter();
        var writer = new TrainingProgressWriter(output, bar: true);
        writer.Report(new TrainingProgress(1, 2, 3.5, 1e-3, 1000, TimeSpan.FromSeconds(3), null));
        writer.Log.WriteLine("step 1: train loss 3.5000, val loss 3.6000");
        writer.Report(new TrainingProgress(2, 2, 3.0, 1e-3, 1000, TimeSpan.Zero, null));
        string text = output.ToString();
        Assert.Contains("\r[###############...............] 1/2 loss 3.5000", text);
        Assert.Contains("\r\u001b[Kstep 1: train loss 3.5000, val loss 3.6000\n[", text.Replace("\r\n", "\n"));
        Assert.EndsWith("\r\u001b[K", text);

        var lines = new StringWriter();
        var plain = new TrainingProgressWriter(lines, bar: false, lineInterval: 2);
        for (int step = 1; step <= 5; step++) plain.Report(new TrainingProgress(step, 5, 1, 1e-3, 10, TimeSpan.Zero, null));
        Assert.Equal(["iter 2/5", "iter 4/5", "iter 5/5"], lines.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(':')[0]));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
