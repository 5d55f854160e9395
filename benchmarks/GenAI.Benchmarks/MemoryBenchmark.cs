using System.Diagnostics;
using System.Reflection;
using GenAI.Core.Checkpoints;
using GenAI.Core.Models;
using GenAI.Core.Models.Llama;
using GenAI.Core.Models.Quantization;
using GenAI.Core.Runtime;
using static TorchSharp.torch;

namespace GenAI.Benchmarks;

/// <summary>
/// Peak resident memory while loading a Llama-3.2-1B-shaped BF16 checkpoint (random weights, written once to a
/// folder): each load runs in a fresh process that reports its RSS before loading, after it and its peak (VmHWM), for a
/// BF16 and an F32 compute dtype and for int8 weights (Q8_0) with F32 and with BF16 for the rest, beside the size of the
/// weights the load produces (of which int8: the quantized weights and their float16 scales).
/// </summary>
internal static class MemoryBenchmark
{
    public static int Run(string[] args)
    {
        var options = new Options(args);
        string folder = options.String("folder", Path.Combine(Path.GetTempPath(), "genai-llama-3.2-1b-shape-bf16"));
        string measure = options.String("measure", "");
        if (measure.Length > 0) return Measure(folder, measure);

        TorchRuntime.EnsureAvailable();
        if (!File.Exists(Path.Combine(folder, CheckpointWeights.SingleFileName))) Write(folder);
        long fileBytes = new FileInfo(Path.Combine(folder, CheckpointWeights.SingleFileName)).Length;
        Console.WriteLine($"Llama-3.2-1B shape, BF16 checkpoint {fileBytes / 1e9:F2} GB in {folder}");
        Console.WriteLine($"{"load",-14} {"weights GB",11} {"of which int8",14} {"RSS before GB",14} {"after GB",9} {"peak GB",8} {"after - before",15} {"/ weights",10} {"peak - before",14} {"/ weights",10}");
        foreach (string load in options.String("loads", "bfloat16,float32,int8,int8-bfloat16").Split(','))
        {
            var (weights, quantized, before, after, peak) = Child(folder, load);
            Console.WriteLine($"{load,-14} {weights / 1e9,11:F2} {quantized / 1e9,14:F2} {before / 1e9,14:F2} {after / 1e9,9:F2} {peak / 1e9,8:F2} " +
                              $"{(after - before) / 1e9,15:F2} {(after - before) / (double)weights,10:F3} {(peak - before) / 1e9,14:F2} {(peak - before) / (double)weights,10:F3}");
        }
        return 0;
    }

    private static void Write(string folder)
    {
        Console.WriteLine($"writing a random Llama-3.2-1B-shaped BF16 checkpoint to {folder} (once) ...");
        var watch = Stopwatch.StartNew();
        using (var model = LlamaFamily.Llama.Create(ShapedConfigs.Llama32_1B()))
        {
            model.InitializeWeights(seed: 7);
            ModelLoader.Save(model, folder, ScalarType.BFloat16);
        }
        Console.WriteLine($"written in {watch.Elapsed.TotalSeconds:F0} s");
    }

    private static (long Weights, long Quantized, long Before, long After, long Peak) Child(string folder, string load)
    {
        string self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
        foreach (string a in new[] { "memory", "--folder", folder, "--measure", load }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"the measuring process failed: {output}");
        var numbers = output.Trim().Split(' ').Select(long.Parse).ToArray();
        return (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4]);
    }

    /// <summary>In the child: load once, print "weights-bytes int8-bytes rss-before rss-after peak-rss".</summary>
    private static int Measure(string folder, string load)
    {
        TorchRuntime.EnsureAvailable();
        using (empty(1)) { } // libtorch's own start-up allocations belong to the baseline
        long before = Status("VmRSS");
        var options = new ModelLoadOptions
        {
            Device = "cpu",
            DType = load.EndsWith("bfloat16", StringComparison.Ordinal) ? ScalarType.BFloat16 : ScalarType.Float32,
            Quantize = load.StartsWith("int8", StringComparison.Ordinal) ? WeightQuantization.Int8 : WeightQuantization.None,
        };
        using var model = ModelLoader.Load(folder, options);
        long floats = model.parameters().Sum(p => p.numel() * p.ElementSize);
        Console.WriteLine($"{model.WeightBytes} {model.WeightBytes - floats} {before} {Status("VmRSS")} {Status("VmHWM")}");
        return 0;
    }

    private static long Status(string field) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
}
