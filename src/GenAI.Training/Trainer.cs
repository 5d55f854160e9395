using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GenAI.Core.Models;
using GenAI.Core.Models.Gpt2;
using GenAI.Core.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenAI.Training;

/// <summary>One evaluation: the iteration and the mean train and validation losses.</summary>
public sealed record EvaluationPoint(int Step, double TrainLoss, double ValidationLoss);

/// <summary>What a training run produced.</summary>
public sealed record TrainingResult(IReadOnlyList<EvaluationPoint> Evaluations, double MillisecondsPerIteration, int Iterations, string OutputFolder);

/// <summary>
/// nanoGPT's training loop on a GenAI model: random-window batches, AdamW with weight decay on parameters of two or
/// more dimensions only, linear warm-up then cosine decay, gradient clipping and accumulation, periodic evaluation.
/// Writes the model in Hugging Face layout with its tokenizer, a training log and a loss curve.
/// </summary>
public static class Trainer
{
    /// <summary>Builds a GPT-2-architecture model shaped by <paramref name="options"/> for <paramref name="tokenizer"/>.</summary>
    public static CausalLanguageModel CreateModel(TrainingOptions options, TextTokenizer tokenizer)
    {
        var config = new Gpt2Config
        {
            VocabSize = tokenizer.VocabSize,
            Positions = options.BlockSize,
            Embedding = options.NEmbd,
            Layers = options.NLayer,
            Heads = options.NHead,
            ResidualDropout = options.Dropout,
            EmbeddingDropout = options.Dropout,
            AttentionDropout = options.Dropout,
            EosTokenIds = tokenizer.EosTokenId is int eos ? [eos] : [],
            BosTokenId = tokenizer.EosTokenId,
        };
        var model = Gpt2Architecture.Instance.Create(config);
        model.InitializeWeights(options.Seed);
        return model;
    }

    /// <summary>
    /// Trains <paramref name="model"/> and saves it with <paramref name="tokenizer"/> into <paramref name="outputFolder"/>,
    /// logging as nanoGPT does. With <paramref name="run"/>'s checkpoint folder it resumes from the latest checkpoint
    /// there (same options and data required) and checkpoints as it goes; batches then continue exactly as the
    /// uninterrupted run would draw them, since the random generators' states are part of the checkpoint.
    /// </summary>
    public static TrainingResult Train(CausalLanguageModel model, TextTokenizer tokenizer, TokenDataset data, TrainingOptions options,
        string outputFolder, TextWriter log, TrainingRun? run = null)
    {
        options.Validate();
        run ??= new TrainingRun();
        if (run.CheckpointInterval < 0) throw new ArgumentException("--checkpoint_interval must be at least 0");
        var progress = run.Progress ?? new TrainingProgressWriter(log, bar: false);
        int blockSize = Math.Min(options.BlockSize, model.Config.ContextLength);
        data.EnsureWindowsFit(blockSize);
        manual_seed(options.Seed); // dropout masks
        using var batches = new Generator((ulong)options.Seed);
        using var evalBatches = new Generator((ulong)options.Seed + 1);
        var parameters = model.named_parameters().ToList();
        var groups = new[]
        {
            new AdamW.ParamGroup(parameters.Where(p => p.parameter.dim() >= 2).Select(p => p.parameter), options.LearningRate, options.Beta1, options.Beta2, 1e-8, options.WeightDecay),
            new AdamW.ParamGroup(parameters.Where(p => p.parameter.dim() < 2).Select(p => p.parameter), options.LearningRate, options.Beta1, options.Beta2, 1e-8, 0),
        };
        using var optimizer = optim.AdamW(groups, options.LearningRate, options.Beta1, options.Beta2);
        var evaluations = new List<EvaluationPoint>();
        long[] dataTokens = [data.Sizes.Train, data.Sizes.Validation];
        int start = 0;
        double loss = double.NaN;
        if (run.CheckpointFolder is string checkpoints && TrainingCheckpoint.Load(checkpoints, model, optimizer) is { } saved)
        {
            if (saved.Options != options) throw new ArgumentException($"the checkpoint in {checkpoints} was made with other options ({saved.Options}); use the same options, or another checkpoint folder");
            if (!saved.DataTokens.SequenceEqual(dataTokens)) throw new ArgumentException($"the checkpoint in {checkpoints} was made on other data ({saved.DataTokens[0]} train / {saved.DataTokens[1]} validation tokens, now {dataTokens[0]} / {dataTokens[1]}); use the same data, or another checkpoint folder");
            start = saved.Step;
            loss = saved.LastLoss;
            evaluations.AddRange(saved.Evaluations);
            using (NewDisposeScope())
            {
                batches.set_state(tensor(saved.BatchGenerator));
                evalBatches.set_state(tensor(saved.EvaluationGenerator));
                set_rng_state(tensor(saved.DropoutGenerator));
            }
            log.WriteLine($"resuming from step {start} ({checkpoints})");
        }
        int lastCheckpoint = start;

        void Checkpoint(int step)
        {
            if (run.CheckpointFolder is null || step == lastCheckpoint && step != 0) return;
            if (run.MayWriteCheckpoint?.Invoke() == false) return;
            using var scope = NewDisposeScope(); // the generators' state tensors
            var state = new TrainingCheckpoint.State(step, evaluations, options, dataTokens, loss,
                TrainingCheckpoint.Bytes(batches.get_state()), TrainingCheckpoint.Bytes(evalBatches.get_state()), TrainingCheckpoint.Bytes(get_rng_state()));
            TrainingCheckpoint.Save(run.CheckpointFolder, state, model, tokenizer, optimizer);
            lastCheckpoint = step;
        }

        var training = new Stopwatch();
        int tokensPerIteration = options.BatchSize * blockSize * options.GradientAccumulationSteps;
        log.WriteLine($"training {model.ParameterCount / 1e6:F2}M parameters, {tokensPerIteration} tokens per iteration, {get_num_threads()} threads");
        TrainingProgress Progress(int step, double lr, EvaluationPoint? evaluation)
        {
            double msPerIteration = step > start ? training.Elapsed.TotalMilliseconds / (step - start) : 0;
            return new TrainingProgress(step, options.MaxIters, loss, lr, msPerIteration > 0 ? tokensPerIteration / msPerIteration * 1000 : 0,
                TimeSpan.FromMilliseconds(msPerIteration * (options.MaxIters - step)), evaluation);
        }

        for (int iteration = start; iteration <= options.MaxIters; iteration++)
        {
            double lr = options.LearningRateAt(iteration);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            bool evaluated = evaluations.Count > 0 && evaluations[^1].Step == iteration;
            if (!evaluated && (iteration % options.EvalInterval == 0 || iteration == options.MaxIters))
            {
                var point = Evaluate(model, data, options, blockSize, evalBatches, iteration);
                evaluations.Add(point);
                progress.Report(Progress(iteration, lr, point));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {iteration}: train loss {point.TrainLoss:F4}, val loss {point.ValidationLoss:F4}"));
                if (run.CheckpointInterval == 0 && iteration > 0) Checkpoint(iteration);
            }
            if (run.CheckpointInterval > 0 && iteration % run.CheckpointInterval == 0 && iteration > 0 || iteration == options.MaxIters) Checkpoint(iteration);
            if (iteration == options.MaxIters) break;
            if (run.Cancellation.IsCancellationRequested)
            {
                Checkpoint(iteration);
                log.WriteLine($"cancelled at step {iteration}");
                run.Cancellation.ThrowIfCancellationRequested();
            }

            training.Start();
            loss = Step(model, optimizer, data, options, blockSize, batches);
            training.Stop();
            progress.Report(Progress(iteration + 1, lr, null));
        }

        int iterations = options.MaxIters - start;
        double meanMs = iterations == 0 ? 0 : training.Elapsed.TotalMilliseconds / iterations;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{meanMs:F1} ms/iter over {iterations} iterations"));
        model.eval();
        ModelLoader.Save(model, outputFolder);
        tokenizer.Save(outputFolder);
        WriteReport(outputFolder, options, evaluations, meanMs);
        return new TrainingResult(evaluations, meanMs, options.MaxIters, outputFolder);
    }

    private static double Step(CausalLanguageModel model, optim.Optimizer optimizer, TokenDataset data, TrainingOptions options, int blockSize, Generator batches)
    {
        model.train();
        using var scope = NewDisposeScope();
        double total = 0;
        for (int micro = 0; micro < options.GradientAccumulationSteps; micro++)
        {
            var (x, y) = data.Batch(train: true, options.BatchSize, blockSize, batches);
            var logits = model.Forward(x);
            var loss = nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), y.view(-1)).div(options.GradientAccumulationSteps);
            loss.backward();
            total += loss.item<float>();
        }
        if (options.GradClip > 0) nn.utils.clip_grad_norm_(model.parameters(), options.GradClip);
        optimizer.step();
        optimizer.zero_grad();
        return total;
    }

    private static EvaluationPoint Evaluate(CausalLanguageModel model, TokenDataset data, TrainingOptions options, int blockSize, Generator generator, int step)
    {
        model.eval();
        using var noGrad = no_grad();
        var means = new double[2];
        for (int split = 0; split < 2; split++)
        {
            double sum = 0;
            for (int i = 0; i < options.EvalIters; i++)
            {
                using var scope = NewDisposeScope();
                var (x, y) = data.Batch(train: split == 0, options.BatchSize, blockSize, generator);
                var logits = model.Forward(x);
                sum += nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), y.view(-1)).item<float>();
            }
            means[split] = sum / options.EvalIters;
        }
        return new EvaluationPoint(step, means[0], means[1]);
    }

    private static void WriteReport(string folder, TrainingOptions options, List<EvaluationPoint> evaluations, double msPerIteration)
    {
        var report = new { options, evaluations, ms_per_iter = msPerIteration };
        File.WriteAllText(Path.Combine(folder, "training_log.json"),
            JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        File.WriteAllText(Path.Combine(folder, "loss_curve.svg"), LossCurve.Svg(evaluations));
    }
}
