using System.Text.Json;
using GenAI.Core.Checkpoints;
using GenAI.Core.Models;
using static TorchSharp.torch;

namespace GenAI.Benchmarks.Gguf;

/// <summary>
/// Exports a Hugging Face model folder (config.json, model.safetensors, vocab.json + merges.txt) to GGUF in F32, F16 or
/// BF16 as llama.cpp's convert_hf_to_gguf.py does for the <c>gpt2</c> and <c>llama</c> architectures: the same keys,
/// tensor names and layouts, and its type rule (1-D tensors, norms, biases and position embeddings stay F32).
/// </summary>
internal static class GgufExporter
{
    /// <summary>Quantization format version of the GGML this targets (<c>GGML_QNT_VERSION</c>).</summary>
    private const uint QuantizationVersion = 2;

    public static void Export(string folder, string path, GgufPrecision precision)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ModelConfig.FileName)));
        var config = document.RootElement;
        string modelType = config.GetProperty("model_type").GetString() ?? "";
        IGgufArchitecture architecture = modelType switch
        {
            "gpt2" => new Gpt2GgufArchitecture(config),
            "llama" => new LlamaGgufArchitecture(config),
            _ => throw new NotSupportedException($"the exporter writes gpt2 and llama models, not '{modelType}'"),
        };

        var writer = new GgufWriter();
        writer.AddString("general.architecture", architecture.Name);
        writer.AddString("general.type", "model");
        writer.AddString("general.name", Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)));
        architecture.AddHyperParameters(writer);
        writer.AddUInt32("general.file_type", (uint)precision.FileType());
        Gpt2Vocabulary.Load(folder, architecture.VocabSize).AddTo(writer, config);
        architecture.AddTokenizerOptions(writer, folder);
        writer.AddUInt32("general.quantization_version", QuantizationVersion);

        using var weights = CheckpointWeights.Open(folder);
        foreach (string checkpointName in weights.Names.Order(StringComparer.Ordinal))
        {
            weights.TryFind(checkpointName, out var file, out var info);
            foreach (var source in architecture.Map(checkpointName))
            {
                var shape = source.Shape(info.Shape);
                var type = TensorType(source.Name, shape.Length, precision);
                writer.AddTensor(source.Name, shape, type, () => source.Rearrange(file.ReadTensor(checkpointName).to(ScalarType.Float32)).to(GgufWriter.DType(type)));
            }
        }
        writer.Write(path);
    }

    /// <summary>convert_hf_to_gguf.py's rule: 1-D tensors, <c>*_norm.weight</c>, anything but a weight, and position embeddings stay F32.</summary>
    private static GgmlType TensorType(string name, int dimensions, GgufPrecision precision)
    {
        bool keepF32 = dimensions <= 1 || name.EndsWith("_norm.weight", StringComparison.Ordinal) || !name.EndsWith(".weight", StringComparison.Ordinal)
                       || name == "position_embd.weight";
        return keepF32 ? GgmlType.F32 : precision.WeightType();
    }
}
