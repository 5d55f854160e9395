using GenAI.Core.Runtime;
using GenAI.Core.Tokenization;
using GenAI.Training;

namespace GenAI.Benchmarks;

/// <summary>
/// nanoGPT's CPU "baby" Shakespeare run (the defaults of <see cref="TrainingOptions"/>, character-level, 90/10 split)
/// on models/tiny-shakespeare/tinyshakespeare.txt: validation loss at the last iteration and mean ms/iter, beside nanoGPT's.
/// </summary>
internal static class TrainBenchmark
{
    private const double NanoGptValidationLoss = 1.886, NanoGptMsPerIteration = 49;

    public static int Run(string[] args)
    {
        // Any nanoGPT option passes through (--max_iters 200 for a quick check, --seed 1, ...).
        var options = new TrainingOptions();
        for (int i = 0; i + 1 < args.Length; i += 2) options = options.With(args[i].TrimStart('-'), args[i + 1]);
        options.Validate();
        TorchRuntime.EnsureAvailable(spinningWorkers: true);

        string data = Paths.TinyShakespeare;
        var documents = TrainingData.ReadDocuments(data);
        var tokenizer = CharTokenizer.FromCorpus(documents[0].Text);
        using var dataset = TokenDataset.FromDocuments(documents, null, tokenizer);
        using var model = Trainer.CreateModel(options, tokenizer);
        string output = Directory.CreateTempSubdirectory("genai-train-benchmark-").FullName;
        try
        {
            Console.WriteLine($"nanoGPT baby run: {data}, {dataset.Sizes.Train:N0} train / {dataset.Sizes.Validation:N0} validation characters, " +
                              $"{options.MaxIters} iterations, seed {options.Seed}");
            var progress = TrainingProgressWriter.ForConsole();
            var result = Trainer.Train(model, tokenizer, dataset, options, output, progress.Log, new TrainingRun { Progress = progress });
            var last = result.Evaluations[^1];
            Console.WriteLine();
            Console.WriteLine($"{"",-8} {"val loss @ " + last.Step,16} {"ms/iter",8}");
            Console.WriteLine($"{"GenAI",-8} {last.ValidationLoss,16:F4} {result.MillisecondsPerIteration,8:F1}");
            Console.WriteLine($"{"nanoGPT",-8} {(options.MaxIters == 2000 ? NanoGptValidationLoss.ToString("F3") : "(at 2000)"),16} {"~" + NanoGptMsPerIteration,8}");
            return 0;
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
