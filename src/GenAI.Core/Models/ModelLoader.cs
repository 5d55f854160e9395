using System.Text.Json;
using GenAI.Core.Checkpoints;
using GenAI.Core.Models.Layers;
using GenAI.Core.Models.Quantization;
using GenAI.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models;

/// <summary>How a model folder is loaded.</summary>
public sealed record ModelLoadOptions
{
    /// <summary><c>auto</c>, <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (see <see cref="ComputeDevice"/>).</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Compute dtype of the weights: Float32 (default), BFloat16 or Float16.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>
    /// <see cref="WeightQuantization.Int8"/> quantizes every linear layer's weight and the LM head to int8 (Q8_0) as
    /// they are read, in memory only (CPU: <see cref="Device"/> <c>auto</c> means the CPU, a GPU is refused; inference
    /// only; see <see cref="CausalLanguageModel.Quantize"/>). The other weights (embeddings, norms, biases) keep
    /// <see cref="DType"/>.
    /// </summary>
    public WeightQuantization Quantize { get; init; } = WeightQuantization.None;
}

/// <summary>Loads and saves models in Hugging Face layout (<c>config.json</c> + safetensors weights).</summary>
public static class ModelLoader
{
    private static readonly HashSet<SafetensorsDType> FloatTypes =
        [SafetensorsDType.F32, SafetensorsDType.F16, SafetensorsDType.BF16, SafetensorsDType.F64];

    /// <summary>
    /// Loads <paramref name="folder"/>. Every tensor is checked (present, floating point, shape as config.json
    /// implies) before any weight is read, so a bad checkpoint fails with a <see cref="CheckpointException"/>
    /// naming the file and tensor and never yields a half-loaded model.
    /// </summary>
    public static CausalLanguageModel Load(string folder, ModelLoadOptions? options = null)
    {
        options ??= new ModelLoadOptions();
        if (options.DType is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
        {
            throw new ArgumentException($"compute dtype must be Float32, BFloat16 or Float16, not {options.DType}", nameof(options));
        }
        TorchRuntime.EnsureAvailable();
        // int8 weights are computed on the CPU, so "auto" means the CPU for them.
        var device = ComputeDevice.Resolve(options.Quantize != WeightQuantization.None && options.Device == "auto" ? "cpu" : options.Device);
        if (options.Quantize != WeightQuantization.None && device.type != DeviceType.CPU)
        {
            throw new ArgumentException($"int8 quantization runs on the CPU; the device is {device}", nameof(options));
        }
        var config = ModelConfig.Load(folder);
        using var weights = CheckpointWeights.Open(folder);
        var model = ModelArchitectures.Get(config.ModelType, Path.Combine(folder, ModelConfig.FileName)).Create(config);
        try
        {
            var plan = Plan(model, weights);
            bool quantize = options.Quantize != WeightQuantization.None;
            // A model to quantize is read in float32 (its weights quantized from the values as stored) and the rest is
            // converted to the compute dtype at the end: converting first would make every float weight resident.
            if (options.DType != ScalarType.Float32 && !quantize) model.to(options.DType);
            // Each weight is quantized as soon as it is read and its float copy freed, so the float model never exists whole.
            var quantizeAfterReading = !quantize
                ? []
                : model.named_modules().Where(m => m.module is LinearLayer).ToDictionary(m => m.name + ".weight", m => (LinearLayer)m.module);
            using (no_grad())
            {
                foreach (var (name, parameter) in model.named_parameters().ToList())
                {
                    var (file, tensorName) = plan[name];
                    file.ReadInto(tensorName, model.IsStoredTransposed(name) ? parameter.t() : parameter);
                    if (quantizeAfterReading.TryGetValue(name, out var layer)) layer.Quantize();
                }
            }
            if (quantize)
            {
                model.Quantize();
                if (options.DType != ScalarType.Float32) model.to(options.DType);
            }
            if (device.type != DeviceType.CPU) model.to(device);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="folder"/> as Hugging Face saves it: <c>config.json</c> and
    /// <c>model.safetensors</c> (tied weights stored once), in <paramref name="dtype"/> or the model's own dtype.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model is quantized: its float weights are gone, and checkpoints stay float.</exception>
    public static void Save(CausalLanguageModel model, string folder, ScalarType? dtype = null)
    {
        if (model.Quantization != WeightQuantization.None)
        {
            throw new InvalidOperationException(
                "a model quantized at load keeps no float weights, and checkpoints stay Hugging Face float safetensors: save the model loaded without Quantize");
        }
        Directory.CreateDirectory(folder);
        var storedType = dtype ?? model.DType;
        using var scope = NewDisposeScope();
        var tensors = model.named_parameters()
            .Select(p => KeyValuePair.Create(model.CheckpointNames(p.name).First(),
                (model.IsStoredTransposed(p.name) ? p.parameter.t() : p.parameter).detach().to(storedType)))
            .ToList();
        SafetensorsWriter.Write(Path.Combine(folder, CheckpointWeights.SingleFileName), tensors,
            new Dictionary<string, string> { ["format"] = "pt" });

        var config = model.Config.ToJson();
        string dtypeName = storedType switch
        {
            ScalarType.BFloat16 => "bfloat16",
            ScalarType.Float16 => "float16",
            _ => "float32",
        };
        config["torch_dtype"] = dtypeName;
        if (config.ContainsKey("dtype")) config["dtype"] = dtypeName; // transformers v5's name
        DurableFiles.WriteAllText(Path.Combine(folder, ModelConfig.FileName), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static Dictionary<string, (SafetensorsFile File, string Tensor)> Plan(CausalLanguageModel model, CheckpointWeights weights)
    {
        var plan = new Dictionary<string, (SafetensorsFile, string)>(StringComparer.Ordinal);
        foreach (var (name, parameter) in model.named_parameters())
        {
            var candidates = model.CheckpointNames(name).ToList();
            string? found = candidates.FirstOrDefault(c => weights.TryFind(c, out _, out _));
            if (found is null)
            {
                throw new CheckpointException(weights.Folder, name, $"missing from the checkpoint (looked for {string.Join(", ", candidates)})");
            }
            weights.TryFind(found, out var file, out var info);
            if (!FloatTypes.Contains(info.DType))
            {
                throw new CheckpointException(file.FilePath, found, $"has dtype {info.DType}; weights must be F32, F16, BF16 or F64");
            }
            var expected = model.IsStoredTransposed(name) ? parameter.shape.Reverse().ToArray() : parameter.shape;
            if (!info.Shape.SequenceEqual(expected))
            {
                throw new CheckpointException(file.FilePath, found,
                    $"shape [{string.Join(", ", info.Shape)}] does not match [{string.Join(", ", expected)}] implied by {ModelConfig.FileName}");
            }
            plan[name] = (file, found);
        }
        return plan;
    }
}
