using GenAI.Core.Models;
using GenAI.Core.Runtime;
using GenAI.Core.Tokenization;
using GenAI.Training;

namespace GenAI.Worker;

/// <summary>
/// <c>train</c>: trains from scratch (character tokenizer) or fine-tunes a model folder on a text or JSONL file.
/// Checkpoints go to <c>OUT/checkpoint/</c>; running the same command again resumes from the latest one.
/// </summary>
internal static class TrainCommand
{
    public static int Run(string[] args)
    {
        string? data = null, validation = null, output = null, init = null, tokenizerKind = "char";
        int checkpointInterval = 0;
        var options = new TrainingOptions();
        foreach (var (name, value) in Arguments.Pairs(args))
        {
            switch (name)
            {
                case "data": data = value; break;
                case "validation": validation = value; break;
                case "out": output = value; break;
                case "init": init = value; break;
                case "tokenizer": tokenizerKind = value; break;
                case "checkpoint_interval":
                    checkpointInterval = int.TryParse(value, out int n) && n >= 0 ? n : throw new ArgumentException($"--checkpoint_interval must be a non-negative integer, not '{value}'");
                    break;
                default: options = options.With(name, value); break;
            }
        }
        if (data is null || output is null) throw new ArgumentException("--data FILE and --out DIR are required");
        foreach (var (option, file) in new[] { ("data", data), ("validation", validation) })
        {
            if (file is not null && !File.Exists(file)) throw new ArgumentException($"--{option}: no file {file}");
        }
        if (tokenizerKind != "char" && init is null) throw new ArgumentException("--tokenizer must be 'char' (or give --init MODEL_DIR to use its tokenizer)");
        options.Validate();
        TorchRuntime.EnsureAvailable(spinningWorkers: true);

        var initTokenizer = init is null ? null : TokenizerLoader.Load(init);
        var chatTemplate = init is null ? null : ChatTemplate.Load(init, initTokenizer);
        var trainDocuments = TrainingData.ReadDocuments(data, chatTemplate);
        var validationDocuments = validation is null ? null : TrainingData.ReadDocuments(validation, chatTemplate);
        TextTokenizer tokenizer = initTokenizer ?? CharTokenizer.FromCorpus(string.Concat(trainDocuments.Concat(validationDocuments ?? [])));
        using var model = init is null ? Trainer.CreateModel(options, tokenizer) : ModelLoader.Load(init, new ModelLoadOptions { Device = "cpu" });
        using var dataset = TokenDataset.FromDocuments(trainDocuments, validationDocuments, tokenizer);
        var progress = TrainingProgressWriter.ForConsole();
        progress.Log.WriteLine($"data {data}: {trainDocuments.Count:N0} documents, {dataset.Sizes.Train:N0} train / {dataset.Sizes.Validation:N0} validation tokens, vocabulary {tokenizer.VocabSize}");

        // Ctrl+C stops at the next iteration with a checkpoint saved.
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            var run = new TrainingRun
            {
                CheckpointFolder = Path.Combine(output, "checkpoint"),
                CheckpointInterval = checkpointInterval,
                Progress = progress,
                Cancellation = cancel.Token,
            };
            var result = Trainer.Train(model, tokenizer, dataset, options, output, progress.Log, run);
            var last = result.Evaluations[^1];
            Console.WriteLine($"saved {output}: train loss {last.TrainLoss:F4}, val loss {last.ValidationLoss:F4}, {result.MillisecondsPerIteration:F1} ms/iter");
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"cancelled; the checkpoint is in {Path.Combine(output, "checkpoint")}: run the same command to resume");
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
