using GenAI.Core.Models;
using GenAI.Core.Runtime;
using GenAI.Core.Tokenization;
using GenAI.Training;

namespace GenAI.Worker;

/// <summary><c>train</c>: trains from scratch on a text file (character tokenizer) or fine-tunes a model folder.</summary>
internal static class TrainCommand
{
    public static int Run(string[] args)
    {
        string? data = null, output = null, init = null, tokenizerKind = "char";
        var options = new TrainingOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : throw new ArgumentException($"unexpected argument '{args[i]}'");
            string value = i + 1 < args.Length ? args[++i] : throw new ArgumentException($"--{name} needs a value");
            switch (name)
            {
                case "data": data = value; break;
                case "out": output = value; break;
                case "init": init = value; break;
                case "tokenizer": tokenizerKind = value; break;
                default: options = options.With(name, value); break;
            }
        }
        if (data is null || output is null) throw new ArgumentException("--data FILE and --out DIR are required");
        if (!File.Exists(data)) throw new ArgumentException($"--data: no file {data}");
        if (tokenizerKind != "char" && init is null) throw new ArgumentException("--tokenizer must be 'char' (or give --init MODEL_DIR to use its tokenizer)");
        options.Validate();
        TorchRuntime.EnsureAvailable(spinningWorkers: true);

        string text = File.ReadAllText(data);
        TextTokenizer tokenizer = init is null ? CharTokenizer.FromCorpus(text) : TokenizerLoader.Load(init);
        using var model = init is null ? Trainer.CreateModel(options, tokenizer) : ModelLoader.Load(init, new ModelLoadOptions { Device = "cpu" });
        using var dataset = TokenDataset.FromText(text, tokenizer);
        Console.WriteLine($"data {data}: {dataset.Sizes.Train:N0} train / {dataset.Sizes.Validation:N0} validation tokens, vocabulary {tokenizer.VocabSize}");
        var result = Trainer.Train(model, tokenizer, dataset, options, output, Console.Out);
        var last = result.Evaluations[^1];
        Console.WriteLine($"saved {output}: train loss {last.TrainLoss:F4}, val loss {last.ValidationLoss:F4}, {result.MillisecondsPerIteration:F1} ms/iter");
        return 0;
    }
}
