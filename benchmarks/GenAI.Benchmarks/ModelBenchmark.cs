using System.Diagnostics;
using GenAI.Core.Models;
using GenAI.Core.Models.Gpt2;
using GenAI.Core.Models.Llama;
using GenAI.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Benchmarks;

/// <summary>
/// Raw model speed: a GPT-2-124M-shaped (<c>--arch gpt2</c>) or SmolLM2-360M-shaped (<c>--arch llama</c>) model with
/// random weights, prefill of a 128-token prompt and decode tokens/s with the KV cache at batch 1 and 8, in F32 and BF16.
/// </summary>
internal static class ModelBenchmark
{
    private const int PromptLength = 128;

    public static int Run(string[] args)
    {
        var options = new Options(args);
        int decodeSteps = options.Int("decode-steps", 64);
        int repeats = options.Int("repeats", 3);
        string arch = options.String("arch", "gpt2");
        TorchRuntime.EnsureAvailable();
        var (shape, model) = arch switch
        {
            "gpt2" => ("GPT-2-124M", Gpt2Architecture.Instance.Create(new Gpt2Config { VocabSize = 50257, Positions = 1024, Embedding = 768, Layers = 12, Heads = 12 })),
            "llama" => ("SmolLM2-360M", LlamaFamily.Llama.Create(ShapedConfigs.SmolLM2_360M())),
            _ => throw new ArgumentException($"--arch must be gpt2 or llama, not '{arch}'"),
        };
        using var _ = model;
        model.InitializeWeights(seed: 1234);
        model.eval();
        Console.WriteLine($"{shape} shape ({model.Config.ArchitectureName}): {model.ParameterCount / 1e6:F1}M parameters, {get_num_threads()} threads, " +
                          $"prompt {PromptLength} tokens, {decodeSteps} decode steps, best of {repeats}");
        Console.WriteLine($"{"dtype",-6} {"prefill ms",11} {"b1 tok/s",9} {"b1 ms/tok",10} {"b8 tok/s",9} {"b8 ms/step",11}");
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            if (dtype != model.DType) model.to(dtype);
            using var inference = inference_mode();
            double prefill = Best(repeats, () => Prefill(model, 1));
            double batch1 = Best(repeats, () => Decode(model, 1, decodeSteps));
            double batch8 = Best(repeats, () => Decode(model, 8, decodeSteps));
            Console.WriteLine($"{(dtype == ScalarType.Float32 ? "F32" : "BF16"),-6} {prefill * 1e3,11:F1} {decodeSteps / batch1,9:F1} " +
                              $"{batch1 / decodeSteps * 1e3,10:F2} {8 * decodeSteps / batch8,9:F1} {batch8 / decodeSteps * 1e3,11:F2}");
        }
        return 0;
    }

    private static double Best(int repeats, Func<double> measure)
    {
        measure(); // warm-up: allocator, kernels, caches
        return Enumerable.Range(0, repeats).Select(_ => measure()).Min();
    }

    private static Tensor Prompt(int batch, int vocab)
    {
        using var generator = new Generator(42);
        return randint(0, vocab, [batch, PromptLength], generator: generator);
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

    /// <summary>Seconds for <paramref name="steps"/> greedy decode steps of <paramref name="batch"/> sequences after a prefill.</summary>
    private static double Decode(CausalLanguageModel model, int batch, int steps)
    {
        using var cache = model.CreateKvCache(batch, PromptLength + steps);
        using var scope = NewDisposeScope();
        var next = model.Forward(Prompt(batch, model.Config.VocabSize), cache, lastPositionOnly: true).argmax(-1);
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
