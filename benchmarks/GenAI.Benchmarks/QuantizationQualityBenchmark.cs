using System.Text.Json;
using GenAI.Core.Models;
using GenAI.Core.Models.Gpt2;
using GenAI.Core.Models.Kernels;
using GenAI.Core.Models.Llama;
using GenAI.Core.Models.Quantization;
using GenAI.Core.Runtime;
using static TorchSharp.torch;

namespace GenAI.Benchmarks;

/// <summary>
/// How far int8 (Q8_0) weights move a model's outputs from float32: for every fixture model's reference prompts (and
/// random prompts on GPT-2-124M- and SmolLM2-360M-shaped models with random weights), the logits of every position in
/// float32 and in int8, compared as top-1 agreement and the largest |log-softmax difference|. Three int8 runs: the whole
/// prompt in one forward pass (the many-row path: dequantized weights, libtorch's GEMM), and the prompt fed one token at
/// a time through the KV cache (the decode kernel) on its VNNI and portable paths.
/// </summary>
internal static class QuantizationQualityBenchmark
{
    private static readonly string[] Fixtures = ["gpt2-tiny", "llama3-tiny", "qwen3-tiny", "qwen2-tiny", "mistral-tiny", "phi3-tiny"];

    public static int Run(string[] args)
    {
        var options = new Options(args);
        int shapedTokens = options.Int("tokens", 48);
        TorchRuntime.EnsureAvailable();
        Console.WriteLine("int8 (Q8_0) against float32, every position of every prompt: top-1 agreement (agree/positions) and max |Δ log-prob|");
        Console.WriteLine("over all tokens of the vocabulary (\"all\") and for float32's top-1 token (\"top\").");
        Console.WriteLine($"{"model",-22} {"prompts",7} {"positions",9} | {"one forward pass",-26} | {"token by token, VNNI",-26} | {"token by token, portable",-26}");
        foreach (string name in Fixtures)
        {
            string folder = Path.Combine(Paths.RepoRoot, "tests", "fixtures", name);
            var prompts = ReferencePrompts(folder);
            using var reference = ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu" });
            using var quantized = ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu", Quantize = WeightQuantization.Int8 });
            Report(name, reference, quantized, prompts);
        }
        foreach (var (shape, create) in new (string, Func<CausalLanguageModel>)[]
                 {
                     ("GPT-2-124M (random)", () => Gpt2Architecture.Instance.Create(ShapedConfigs.Gpt2_124M())),
                     ("SmolLM2-360M (random)", () => LlamaFamily.Llama.Create(ShapedConfigs.SmolLM2_360M())),
                 })
        {
            using var reference = create();
            reference.InitializeWeights(seed: 1234);
            reference.eval();
            using var quantized = create();
            quantized.InitializeWeights(seed: 1234);
            quantized.eval();
            quantized.Quantize();
            using var generator = new Generator(42);
            var prompts = Enumerable.Range(0, 2)
                .Select(_ => randint(0, reference.Config.VocabSize, [shapedTokens], generator: generator).data<long>().ToArray()).ToList();
            Report(shape, reference, quantized, prompts);
        }
        Console.WriteLine("(Random-weight models have near-uniform next-token distributions, so their top-1 is decided by tiny margins.)");
        return 0;
    }

    private static void Report(string name, CausalLanguageModel reference, CausalLanguageModel quantized, List<long[]> prompts)
    {
        var expected = prompts.Select(p => LogProbs(reference, p, stepwise: false)).ToList();
        var columns = new List<string>();
        foreach (var (stepwise, path) in new (bool, Int8KernelPath?)[] { (false, null), (true, Int8KernelPath.Vnni), (true, Int8KernelPath.Portable) })
        {
            if (path == Int8KernelPath.Vnni && !SkinnyMatmul.VnniSupported)
            {
                columns.Add("(no AVX-VNNI)");
                continue;
            }
            var before = SkinnyMatmul.Int8Path;
            if (path is { } p) SkinnyMatmul.Int8Path = p;
            try
            {
                var actual = prompts.Select(prompt => LogProbs(quantized, prompt, stepwise)).ToList();
                columns.Add(Compare(expected, actual));
            }
            finally
            {
                SkinnyMatmul.Int8Path = before;
            }
        }
        int positions = prompts.Sum(p => p.Length);
        Console.WriteLine($"{name,-22} {prompts.Count,7} {positions,9} | {columns[0],-26} | {columns[1],-26} | {columns[2],-26}");
    }

    private static string Compare(List<float[][]> expected, List<float[][]> actual)
    {
        int agree = 0, positions = 0;
        double maxAll = 0, maxTop = 0;
        for (int p = 0; p < expected.Count; p++)
        {
            var (e, a) = (expected[p], actual[p]);
            for (int t = 0; t < e.Length; t++)
            {
                int topE = 0, topA = 0;
                for (int v = 0; v < e[t].Length; v++)
                {
                    if (e[t][v] > e[t][topE]) topE = v;
                    if (a[t][v] > a[t][topA]) topA = v;
                    maxAll = Math.Max(maxAll, Math.Abs(e[t][v] - a[t][v]));
                }
                maxTop = Math.Max(maxTop, Math.Abs(e[t][topE] - a[t][topE]));
                agree += topE == topA ? 1 : 0;
                positions++;
            }
        }
        return $"{agree}/{positions} ({(double)agree / positions:P1}) all {maxAll:F3} top {maxTop:F3}";
    }

    /// <summary>Log-softmax of every position's logits [tokens, vocab]: one forward pass, or one token at a time with the cache.</summary>
    private static float[][] LogProbs(CausalLanguageModel model, long[] ids, bool stepwise)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        Tensor logits;
        if (!stepwise)
        {
            logits = model.Forward(tensor(ids, [1, ids.Length]))[0];
        }
        else
        {
            using var cache = model.CreateKvCache(1, ids.Length);
            logits = cat(ids.Select(id => model.Forward(tensor(new[] { id }, [1, 1]), cache)[0]).ToArray(), 0);
        }
        var logProbs = nn.functional.log_softmax(logits, -1);
        return Enumerable.Range(0, ids.Length).Select(t => logProbs[t].data<float>().ToArray()).ToArray();
    }

    private static List<long[]> ReferencePrompts(string folder)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "reference_outputs.json")));
        return document.RootElement.GetProperty("prompts").EnumerateArray()
            .Select(p => p.GetProperty("ids").EnumerateArray().Select(e => e.GetInt64()).ToArray()).ToList();
    }
}
