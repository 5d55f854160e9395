using System.Diagnostics;
using GenAI.Core.Models;
using GenAI.Core.Models.Gpt2;
using GenAI.Core.Models.Kernels;
using GenAI.Core.Models.Llama;
using GenAI.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Benchmarks;

/// <summary>
/// Raw model speed: a GPT-2-124M-shaped (<c>--arch gpt2</c>) or SmolLM2-360M-shaped (<c>--arch llama</c>) model with
/// random weights, prefill of a 128-token prompt and decode tokens/s with the KV cache at batch 1 and 8, in F32 and BF16,
/// then with int8 (Q8_0) weights: float32 activations on the VNNI and the portable decode kernel, and bfloat16 activations.
/// </summary>
internal static class ModelBenchmark
{
    public const int PromptLength = 128;

    /// <summary>The samples of one <see cref="Measure"/>: each a repeat after a warm-up.</summary>
    /// <param name="PrefillMilliseconds">Prefill of a 128-token prompt at batch 1.</param>
    /// <param name="Batch1TokensPerSecond">Greedy decode after that prompt, one sequence.</param>
    /// <param name="Batch8TokensPerSecond">Greedy decode of eight sequences together, all their tokens per second.</param>
    public sealed record RawFigures(Figure PrefillMilliseconds, Figure Batch1TokensPerSecond, Figure Batch8TokensPerSecond);

    public static int Run(string[] args)
    {
        var options = new Options(args);
        int decodeSteps = options.Int("decode-steps", 64);
        int repeats = options.Int("repeats", 3);
        string arch = options.String("arch", "gpt2");
        bool floatRows = options.String("weights", "all") != "int8";
        TorchRuntime.EnsureAvailable();
        var (shape, model) = arch switch
        {
            "gpt2" => ("GPT-2-124M", Gpt2Architecture.Instance.Create(ShapedConfigs.Gpt2_124M())),
            "llama" => ("SmolLM2-360M", LlamaFamily.Llama.Create(ShapedConfigs.SmolLM2_360M())),
            _ => throw new ArgumentException($"--arch must be gpt2 or llama, not '{arch}'"),
        };
        using var _ = model;
        model.InitializeWeights(seed: 1234);
        model.eval();
        Console.WriteLine($"{shape} shape ({model.Config.ArchitectureName}): {model.ParameterCount / 1e6:F1}M parameters, {get_num_threads()} threads, " +
                          $"prompt {PromptLength} tokens, {decodeSteps} decode steps, best of {repeats}");
        Console.WriteLine($"{"weights",-12} {"prefill ms",11} {"b1 tok/s",9} {"b1 ms/tok",10} {"b8 tok/s",9} {"b8 ms/step",11} {"weights MB",11}");
        if (floatRows)
        {
            Row("F32", model, ScalarType.Float32, null, repeats, decodeSteps);
            Row("BF16", model, ScalarType.BFloat16, null, repeats, decodeSteps);
            model.to(ScalarType.Float32);
        }
        model.Quantize();
        if (SkinnyMatmul.VnniSupported) Row("int8 VNNI", model, ScalarType.Float32, Int8KernelPath.Vnni, repeats, decodeSteps);
        Row("int8 port.", model, ScalarType.Float32, Int8KernelPath.Portable, repeats, decodeSteps);
        Row("int8 bf16act", model, ScalarType.BFloat16, null, repeats, decodeSteps);
        return 0;
    }

    /// <summary>One line of the table: the model in <paramref name="dtype"/> (int8 weights stay int8) on the given int8 path.</summary>
    private static void Row(string label, CausalLanguageModel model, ScalarType dtype, Int8KernelPath? path, int repeats, int decodeSteps)
    {
        if (dtype != model.DType) model.to(dtype);
        var before = SkinnyMatmul.Int8Path;
        if (path is { } p) SkinnyMatmul.Int8Path = p;
        try
        {
            var figures = Measure(model, decodeSteps, repeats);
            double batch1 = figures.Batch1TokensPerSecond.Best, batch8 = figures.Batch8TokensPerSecond.Best;
            Console.WriteLine($"{label,-12} {figures.PrefillMilliseconds.Best,11:F1} {batch1,9:F1} {1e3 / batch1,10:F2} " +
                              $"{batch8,9:F1} {8e3 / batch8,11:F2} {model.WeightBytes / 1e6,11:F0}");
        }
        finally
        {
            SkinnyMatmul.Int8Path = before;
        }
    }

    /// <summary>
    /// Prefill and decode figures of <paramref name="model"/> in its current dtype: a warm-up, then
    /// <paramref name="repeats"/> samples of each, <paramref name="decodeSteps"/> greedy steps per decode sample, after
    /// a prompt of <paramref name="decodeContext"/> tokens (default <see cref="PromptLength"/>; 1 decodes from an empty
    /// cache, as llama-bench's tg test does).
    /// </summary>
    public static RawFigures Measure(CausalLanguageModel model, int decodeSteps, int repeats, int decodeContext = PromptLength)
    {
        using var inference = inference_mode();
        var prefill = Repeat(repeats, () => Prefill(model, 1));
        var batch1 = Repeat(repeats, () => Decode(model, 1, decodeSteps, decodeContext));
        var batch8 = Repeat(repeats, () => Decode(model, 8, decodeSteps, decodeContext));
        return new RawFigures(
            Figure.Time(prefill.Select(s => s * 1e3)),
            Figure.Rate(batch1.Select(s => decodeSteps / s)),
            Figure.Rate(batch8.Select(s => 8 * decodeSteps / s)));
    }

    private static List<double> Repeat(int repeats, Func<double> measure)
    {
        measure(); // warm-up: allocator, kernels, caches
        return Enumerable.Range(0, repeats).Select(_ => measure()).ToList();
    }

    private static Tensor Prompt(int batch, int vocab, int length = PromptLength)
    {
        using var generator = new Generator(42);
        return randint(0, vocab, [batch, length], generator: generator);
    }

    /// <summary>Seconds to prefill a 128-token prompt.</summary>
    private static double Prefill(CausalLanguageModel model, int batch)
    {
        using var cache = model.CreateKvCache(batch, PromptLength);
        using var scope = NewDisposeScope();
        var prompt = Prompt(batch, model.Config.VocabSize);
        var watch = Stopwatch.StartNew();
        model.Forward(prompt, cache, lastPositionOnly: true);
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Seconds for <paramref name="steps"/> greedy decode steps of <paramref name="batch"/> sequences after a prefill of <paramref name="context"/> tokens.</summary>
    private static double Decode(CausalLanguageModel model, int batch, int steps, int context)
    {
        using var cache = model.CreateKvCache(batch, context + steps);
        using var scope = NewDisposeScope();
        var next = model.Forward(Prompt(batch, model.Config.VocabSize, context), cache, lastPositionOnly: true).argmax(-1);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            using var step = NewDisposeScope();
            next = model.Forward(next, cache, lastPositionOnly: true).argmax(-1).MoveToOuterDisposeScope();
            _ = next[0, 0].item<long>(); // the engine reads each token back; so does the benchmark
        }
        return watch.Elapsed.TotalSeconds;
    }
}
