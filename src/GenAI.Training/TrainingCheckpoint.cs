using GenAI.Core.Checkpoints;
using System.Text.Json;
using System.Text.Json.Serialization;
using GenAI.Core.Models;
using GenAI.Core.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenAI.Training;

/// <summary>
/// A resumable snapshot of a training run. A checkpoint folder holds one <c>step-NNNNNNN/</c> folder per checkpoint
/// and a <c>latest</c> file naming the current one. The step folder is a servable model folder (<c>config.json</c>,
/// <c>model.safetensors</c>, tokenizer files) plus <c>optimizer.bin</c> (TorchSharp's AdamW state: moments and step
/// counts), <c>state.json</c> (iteration, evaluations so far, options, data sizes, the random generators' states)
/// and <c>loss_curve.svg</c>. A new checkpoint is written to a temporary folder, fsynced, renamed into place, and
/// only then does <c>latest</c> (written to a temporary file, fsynced, renamed) point at it: a crash at any moment
/// leaves the previous checkpoint current. Older step folders are removed after the switch.
/// </summary>
public static class TrainingCheckpoint
{
    /// <summary>The file naming the current step folder.</summary>
    public const string LatestFile = "latest";

    private const string StateFile = "state.json";
    private const string OptimizerFile = "optimizer.bin";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>True for the files of a step folder that make up the model (everything but the optimizer and run state).</summary>
    public static bool IsModelFile(string path) => Path.GetFileName(path) is not (OptimizerFile or StateFile);

    /// <summary>The current checkpoint's step folder (a servable model folder), or null when there is none.</summary>
    public static string? LatestFolder(string checkpointFolder)
    {
        string pointer = Path.Combine(checkpointFolder, LatestFile);
        if (!File.Exists(pointer)) return null;
        string name = File.ReadAllText(pointer).Trim();
        string folder = Path.Combine(checkpointFolder, name);
        if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || !File.Exists(Path.Combine(folder, StateFile)))
        {
            throw new InvalidDataException($"{pointer} names '{name}', which is not a checkpoint in {checkpointFolder}");
        }
        return folder;
    }

    /// <summary>What a checkpoint records besides weights and optimizer state.</summary>
    internal sealed record State(
        int Step,
        List<EvaluationPoint> Evaluations,
        TrainingOptions Options,
        long[] DataTokens,
        double LastLoss,
        byte[] BatchGenerator,
        byte[] EvaluationGenerator,
        byte[] DropoutGenerator);

    internal static void Save(string checkpointFolder, State state, CausalLanguageModel model, TextTokenizer tokenizer, OptimizerHelper optimizer)
    {
        Directory.CreateDirectory(checkpointFolder);
        string name = $"step-{state.Step:D7}";
        string final = Path.Combine(checkpointFolder, name);
        string temp = Path.Combine(checkpointFolder, $".{name}.tmp-{Guid.NewGuid():N}");
        try
        {
            ModelLoader.Save(model, temp);
            tokenizer.Save(temp);
            optimizer.save_state_dict(Path.Combine(temp, OptimizerFile));
            File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, Json));
            File.WriteAllText(Path.Combine(temp, "loss_curve.svg"), LossCurve.Svg(state.Evaluations));
            foreach (string file in Directory.GetFiles(temp)) DurableFiles.FlushFile(file);
            // A folder of this step that "latest" does not name is a leftover; the current one is never replaced.
            if (Directory.Exists(final))
            {
                // The step is saved already (the same state: runs are deterministic); never touch what "latest" names.
                if (File.Exists(Path.Combine(checkpointFolder, LatestFile)) && File.ReadAllText(Path.Combine(checkpointFolder, LatestFile)).Trim() == name) return;
                Directory.Delete(final, recursive: true);
            }
            Directory.Move(temp, final);
            DurableFiles.FlushDirectory(checkpointFolder);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        DurableFiles.WriteAllText(Path.Combine(checkpointFolder, LatestFile), name);
        GenAI.Core.Checkpoints.DurableFiles.FlushDirectory(checkpointFolder); // "latest" is on disk before the old steps go
        DurableFiles.WriteAllText(Path.Combine(checkpointFolder, "loss_curve.svg"), LossCurve.Svg(state.Evaluations));
        foreach (string old in Directory.GetDirectories(checkpointFolder))
        {
            string oldName = Path.GetFileName(old);
            if (oldName != name && (oldName.StartsWith("step-", StringComparison.Ordinal) || oldName.StartsWith(".step-", StringComparison.Ordinal)))
            {
                Directory.Delete(old, recursive: true);
            }
        }
    }

    /// <summary>The latest checkpoint's state, with its weights and optimizer state loaded into <paramref name="model"/> and <paramref name="optimizer"/>; null when there is none.</summary>
    internal static State? Load(string checkpointFolder, CausalLanguageModel model, OptimizerHelper optimizer)
    {
        string? folder = LatestFolder(checkpointFolder);
        if (folder is null) return null;
        string statePath = Path.Combine(folder, StateFile);
        State state;
        try
        {
            state = JsonSerializer.Deserialize<State>(File.ReadAllText(statePath), Json) ?? throw new InvalidDataException($"{statePath} is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{statePath} is not a valid checkpoint state: {e.Message}", e);
        }
        using (var saved = ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu" }))
        using (no_grad())
        {
            var weights = saved.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, parameter) in model.named_parameters())
            {
                if (!weights.TryGetValue(name, out var weight) || !weight.shape.SequenceEqual(parameter.shape))
                {
                    throw new InvalidDataException($"checkpoint {folder} does not fit this model: parameter {name} is missing or shaped differently");
                }
                parameter.copy_(weight);
            }
        }
        optimizer.load_state_dict(Path.Combine(folder, OptimizerFile));
        return state;
    }

    internal static byte[] Bytes(Tensor generatorState) => generatorState.data<byte>().ToArray();
}
