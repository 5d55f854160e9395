using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Benchmarks.Gguf;
using GenAI.Core.Models;
using GenAI.Core.Models.Gpt2;
using GenAI.Core.Models.Llama;
using static TorchSharp.torch;

namespace GenAI.Benchmarks.LlamaCpp;

/// <summary>
/// The random-weight model both engines run, written once per run: a GPT-2-124M-shaped (<c>gpt2</c>) or
/// SmolLM2-360M-shaped (<c>llama</c>, with GPT-2's 50,257-token vocabulary instead of SmolLM2's 49,152) model with a
/// fixed seed, saved as Hugging Face folders in F32 and BF16 with GPT-2's real vocab.json + merges.txt, and exported
/// from the F32 folder to GGUF in F32 and F16, plus Q8_0 quantized by llama-quantize from the F32 file.
/// </summary>
internal sealed class ComparisonModel
{
    /// <summary>The GGUF files, by llama.cpp's type name.</summary>
    public const string F32 = "F32", F16 = "F16", Q8_0 = "Q8_0";

    private ComparisonModel(string shape, long parameters, int contextLength, string f32Folder, string bf16Folder, Dictionary<string, string> gguf)
    {
        Shape = shape;
        Parameters = parameters;
        ContextLength = contextLength;
        F32Folder = f32Folder;
        BF16Folder = bf16Folder;
        Gguf = gguf;
    }

    /// <summary>"GPT-2-124M", "SmolLM2-360M (GPT-2 vocabulary)".</summary>
    public string Shape { get; }

    public long Parameters { get; }

    /// <summary>The positions the model was built for.</summary>
    public int ContextLength { get; }

    /// <summary>The Hugging Face folder with F32 safetensors.</summary>
    public string F32Folder { get; }

    /// <summary>The same weights rounded to BF16 safetensors.</summary>
    public string BF16Folder { get; }

    /// <summary>GGUF file paths by type (<see cref="F32"/>, <see cref="F16"/>, <see cref="Q8_0"/>; the exporter also writes BF16, which no target names).</summary>
    public IReadOnlyDictionary<string, string> Gguf { get; }

    /// <summary>Builds the <paramref name="arch"/> model with weights from <paramref name="seed"/> and writes every file under <paramref name="folder"/>.</summary>
    public static ComparisonModel Create(string arch, long seed, string folder, LlamaCppBuild llamaCpp)
    {
        var watch = Stopwatch.StartNew();
        var (shape, model) = arch switch
        {
            "gpt2" => ("GPT-2-124M", Gpt2Architecture.Instance.Create(ShapedConfigs.Gpt2_124M())),
            "llama" => ("SmolLM2-360M (GPT-2 vocabulary)", LlamaFamily.Llama.Create(ShapedConfigs.SmolLM2_360MWithGpt2Vocabulary())),
            _ => throw new ArgumentException($"--arch must be gpt2 or llama, not '{arch}'"),
        };
        string f32Folder = Path.Combine(folder, "hf-f32"), bf16Folder = Path.Combine(folder, "hf-bf16");
        long parameters;
        int contextLength = model.Config.ContextLength;
        using (model)
        {
            model.InitializeWeights(seed);
            parameters = model.ParameterCount;
            ModelLoader.Save(model, f32Folder, ScalarType.Float32);
            ModelLoader.Save(model, bf16Folder, ScalarType.BFloat16);
        }
        foreach (string target in new[] { f32Folder, bf16Folder }) Paths.WriteGpt2Tokenizer(target, contextLength);

        var gguf = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [F32] = Path.Combine(folder, "model-f32.gguf"),
            [F16] = Path.Combine(folder, "model-f16.gguf"),
            [Q8_0] = Path.Combine(folder, "model-q8_0.gguf"),
        };
        GgufExporter.Export(f32Folder, gguf[F32], GgufPrecision.F32);
        GgufExporter.Export(f32Folder, gguf[F16], GgufPrecision.F16);
        llamaCpp.Quantize(gguf[F32], gguf[Q8_0], Q8_0);
        Console.WriteLine($"{shape}: {parameters / 1e6:F1}M parameters, seed {seed}; Hugging Face folders (F32, BF16) and GGUF " +
                          $"({string.Join(", ", gguf.Select(g => $"{g.Key} {new FileInfo(g.Value).Length / 1e6:F0} MB"))}) in {folder}, {watch.Elapsed.TotalSeconds:F0} s");
        return new ComparisonModel(shape, parameters, contextLength, f32Folder, bf16Folder, gguf);
    }
}
