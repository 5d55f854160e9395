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
            EosTokenId = tokenizer.EosTokenId,
            BosTokenId = tokenizer.EosTokenId,
        };
        var model = Gpt2Architecture.Instance.Create(config);
        model.InitializeWeights(options.Seed);
        return model;
    }

    /// <summary>Trains <paramref name="model"/> and saves it with <paramref name="tokenizer"/> into <paramref name="outputFolder"/>, logging as nanoGPT does.</summary>
    public static TrainingResult Train(CausalLanguageModel model, TextTokenizer tokenizer, TokenDataset data, TrainingOptions options,
        string outputFolder, TextWriter log)
    {
        options.Validate();
        int blockSize = Math.Min(options.BlockSize, model.Config.ContextLength);
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
        var training = new Stopwatch();
        int tokensPerIteration = options.BatchSize * blockSize * options.GradientAccumulationSteps;
        log.WriteLine($"training {model.ParameterCount / 1e6:F2}M parameters, {tokensPerIteration} tokens per iteration, {get_num_threads()} threads");

        for (int iteration = 0; iteration <= options.MaxIters; iteration++)
        {
            double lr = options.LearningRateAt(iteration);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            if (iteration % options.EvalInterval == 0 || iteration == options.MaxIters)
            {
                var point = Evaluate(model, data, options, blockSize, evalBatches, iteration);
                evaluations.Add(point);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {iteration}: train loss {point.TrainLoss:F4}, val loss {point.ValidationLoss:F4}"));
            }
            if (iteration == options.MaxIters) break;

            training.Start();
            double loss = Step(model, optimizer, data, options, blockSize, batches);
            training.Stop();
            if (iteration % 10 == 0)
            {
                double msPerIteration = training.Elapsed.TotalMilliseconds / (iteration + 1);
                var eta = TimeSpan.FromMilliseconds(msPerIteration * (options.MaxIters - iteration - 1));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"iter {iteration}: loss {loss:F4}, lr {lr:E2}, {msPerIteration:F1} ms/iter, {tokensPerIteration / msPerIteration * 1000:F0} tokens/s, eta {eta:hh\\:mm\\:ss}"));
            }
        }

        double meanMs = options.MaxIters == 0 ? 0 : training.Elapsed.TotalMilliseconds / options.MaxIters;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{meanMs:F1} ms/iter over {options.MaxIters} iterations"));
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
