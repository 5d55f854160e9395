using System.Text;
using System.Text.Json;
using GenAI.Core.Checkpoints;
using GenAI.Core.Models;
using GenAI.Core.Tokenization;

namespace GenAI.Training.Jobs;

/// <summary>One training step as the job runner reports it.</summary>
internal sealed record StepReport(int Step, int MaxSteps, double Loss, double LearningRate, double TokensPerSecond, EvaluationPoint? Evaluation);

/// <summary>
/// Where the jobs code meets the training data reader, the trainer's resumable runs and the model repository, which
/// are landing separately: each is one call here, so swapping in the real one touches nothing else.
/// </summary>
internal static class TrainingSeam
{
    /// <summary>The documents of a training file (plain text, or JSONL text / prompt+completion / chat lines); bad lines throw naming the line.</summary>
    public static IReadOnlyList<string> ReadDocuments(string path)
    {
        // Interim reader until TrainingData.ReadDocuments lands.
        string text = File.ReadAllText(path, new UTF8Encoding(false, throwOnInvalidBytes: true));
        bool jsonl = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || text.TrimStart().StartsWith('{');
        if (!jsonl) return [text];
        var documents = new List<string>();
        int number = 0;
        foreach (string line in text.Split('\n'))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"line {number}: expected a JSON object");
                if (root.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String) documents.Add(t.GetString()!);
                else if (root.TryGetProperty("prompt", out var p) && root.TryGetProperty("completion", out var c)) documents.Add(p.GetString() + c.GetString());
                else if (root.TryGetProperty("messages", out var m) && m.ValueKind == JsonValueKind.Array)
                {
                    documents.Add(string.Join("\n", m.EnumerateArray().Select(x => $"{x.GetProperty("role").GetString()}: {x.GetProperty("content").GetString()}")));
                }
                else throw new InvalidDataException($"line {number}: expected \"text\", \"prompt\" and \"completion\", or \"messages\"");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
            {
                throw new InvalidDataException($"line {number}: {e.Message}");
            }
        }
        return documents;
    }

    /// <summary>Train and validation tokens: the validation documents when given, else nanoGPT's 90/10 split.</summary>
    public static TokenDataset Dataset(IReadOnlyList<string> train, IReadOnlyList<string>? validation, TextTokenizer tokenizer)
    {
        List<int> Tokens(IReadOnlyList<string> documents)
        {
            var tokens = new List<int>();
            foreach (string document in documents)
            {
                tokens.AddRange(tokenizer.Encode(document));
                if (tokenizer.EosTokenId is { } eos) tokens.Add(eos);
            }
            return tokens;
        }
        var trainTokens = Tokens(train);
        if (validation is null) return new TokenDataset(trainTokens);
        var all = trainTokens.Concat(Tokens(validation)).ToList();
        return new TokenDataset(all, (double)trainTokens.Count / all.Count);
    }

    /// <summary>
    /// Trains, reporting steps to <paramref name="report"/>, resuming from <paramref name="checkpointFolder"/> when it
    /// holds a checkpoint, and stopping with <see cref="OperationCanceledException"/> on <paramref name="cancellation"/>.
    /// </summary>
    public static void Train(CausalLanguageModel model, TextTokenizer tokenizer, TokenDataset data, TrainingOptions options, string outputFolder,
        TextWriter log, string checkpointFolder, int checkpointInterval, Action<StepReport> report, CancellationToken cancellation)
    {
        // Interim: the trainer has no checkpoints or cancellation yet, so a job restarts from step 0 and runs to its end.
        _ = checkpointFolder;
        _ = checkpointInterval;
        cancellation.ThrowIfCancellationRequested();
        var result = Trainer.Train(model, tokenizer, data, options, outputFolder, log);
        foreach (var point in result.Evaluations)
        {
            report(new StepReport(point.Step, options.MaxIters, point.TrainLoss, options.LearningRateAt(Math.Max(0, point.Step - 1)), 0, point));
        }
    }

    /// <summary>
    /// Publishes <paramref name="fromFolder"/> as the next revision of model <paramref name="name"/> under
    /// <paramref name="modelsRoot"/> (validated, written aside, fsynced, renamed, current pointer swapped).
    /// A job that crashed after publishing and ran again does not publish twice.
    /// </summary>
    public static void Publish(string modelsRoot, string name, string fromFolder)
    {
        var repository = new ModelRepository(modelsRoot);
        if (File.Exists(Path.Combine(repository.ModelFolder(name), ModelRepository.CurrentPointer))) return;
        repository.Publish(name, fromFolder);
    }
}
