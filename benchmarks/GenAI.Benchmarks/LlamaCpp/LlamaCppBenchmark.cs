using GenAI.Core.Models;
using GenAI.Core.Models.Quantization;
using GenAI.Core.Runtime;
using static TorchSharp.torch;

namespace GenAI.Benchmarks.LlamaCpp;

/// <summary>
/// GenAI side by side with llama.cpp on the same random weights (issue 12): the model is written as Hugging Face folders
/// and exported to GGUF; greedy tokens are checked to agree; then, one process at a time, raw figures (GenAI's model
/// benchmark; llama-bench pp128/tg128) and HTTP streaming figures (GenAI's server and llama-server, the same client),
/// in rounds spread over time; one table with every figure and the issue's target ratios.
/// </summary>
internal static class LlamaCppBenchmark
{
    private const int Streams = 8, NewTokens = 128, GreedyTokens = 32, Seed = 1234;

    /// <summary>GenAI's modes on the same weights: the folder it loads, how (dtype, quantization), and the same as server flags.</summary>
    private sealed record GenAIMode(string Precision, Func<ComparisonModel, string> Folder, ScalarType DType, WeightQuantization Quantize, string[] ServerOptions)
    {
        public ModelLoadOptions LoadOptions => new() { Device = "cpu", DType = DType, Quantize = Quantize };
    }

    private static readonly GenAIMode[] GenAIModes =
    [
        new("F32", m => m.F32Folder, ScalarType.Float32, WeightQuantization.None, ["--dtype", "float32"]),
        new("BF16", m => m.BF16Folder, ScalarType.BFloat16, WeightQuantization.None, ["--dtype", "bfloat16"]),
        new("int8", m => m.F32Folder, ScalarType.Float32, WeightQuantization.Int8, ["--dtype", "float32", "--quantize", "int8"]),
    ];

    /// <summary>llama.cpp's types the issue's targets pair with GenAI's modes (F32 with F32, F16 with BF16, Q8_0 with int8).</summary>
    private static readonly string[] LlamaTypes = [ComparisonModel.F32, ComparisonModel.F16, ComparisonModel.Q8_0];

    /// <summary>Positions per slot or row: the prompt and the new tokens (llama-server <c>-c 8×this</c>, GenAI <c>--max-model-len</c>).</summary>
    private static int SlotContext => ModelBenchmark.PromptLength + NewTokens;

    public static int Run(string[] args)
    {
        var options = new Options(args);
        string arch = options.String("arch", "gpt2");
        int threads = options.Int("threads", 2), repeats = options.Int("repeats", 3), rounds = options.Int("rounds", 2);
        string bin = options.String("llama-cpp", Environment.GetEnvironmentVariable("LLAMA_CPP_BIN") ?? "");
        if (bin.Length == 0) throw new ArgumentException("--llama-cpp <llama.cpp/build/bin> is required (or set LLAMA_CPP_BIN)");
        var llamaCpp = new LlamaCppBuild(bin, threads);
        TorchRuntime.EnsureAvailable();
        string work = options.String("work", "");
        if (work.Length == 0) work = Directory.CreateTempSubdirectory($"genai-llamacpp-{arch}-").FullName;
        bool keep = args.Contains("--keep"), checkOnly = args.Contains("--check-only");
        try
        {
            var model = ComparisonModel.Create(arch, Seed, work, llamaCpp);
            var rows = GenAIModes.Select(m => new ComparisonRow("GenAI", m.Precision)).ToList();
            rows.AddRange(LlamaTypes.Select(t => new ComparisonRow("llama.cpp", t)));
            var row = rows.ToDictionary(r => r.Name);

            if (!CheckGreedy(model, llamaCpp, row)) return 1;
            if (checkOnly)
            {
                foreach (var r in rows.Where(r => r.Greedy is not null)) Console.WriteLine($"{r.Name,-16} greedy tokens agreeing with GenAI F32: {r.Greedy}");
                return 0;
            }

            Console.WriteLine($"{Environment.ProcessorCount} cores; llama.cpp {threads} threads, libtorch {get_num_threads()}; prompt {ModelBenchmark.PromptLength} tokens, " +
                              $"{NewTokens} new tokens, {Streams} streams; {rounds} rounds of {repeats} repeats (llama-bench: of {Math.Max(repeats, 5)})");
            var load = new MachineLoad();
            string buildCommit = "";
            var random = new Random(7);
            for (int round = 1; round <= rounds; round++)
            {
                foreach (var mode in GenAIModes) MeasureRaw(model, mode, row["GenAI " + mode.Precision], repeats, $"round {round}, {load.Read()}");
                buildCommit = MeasureLlamaBench(model, llamaCpp, row, repeats, $"round {round}, {load.Read()}");
                foreach (var mode in GenAIModes)
                {
                    Console.WriteLine($"HTTP: GenAI server {mode.Precision} (round {round}, {load.Read()})");
                    // An empty models root: the server serves this model alone (not also the repository's models/ folder).
                    using var server = ServerProcess.StartGenAI(mode.Folder(model), [.. mode.ServerOptions, "--max-concurrent-sequences", $"{Streams}",
                        "--max-model-len", $"{SlotContext}", "--models-root", Path.Combine(work, "no-models-root")]);
                    var current = row["GenAI " + mode.Precision];
                    current.MemoryAfterLoad = Worse(current.MemoryAfterLoad, ServerMemory.Read(server));
                    Serve(current, server, random, repeats);
                    current.MemoryAfterRun = Worse(current.MemoryAfterRun, ServerMemory.Read(server));
                    Console.WriteLine($"  memory after load: {current.MemoryAfterLoad}; after the streams: {current.MemoryAfterRun}");
                }
                foreach (string type in LlamaTypes)
                {
                    Console.WriteLine($"HTTP: llama-server {type} (round {round}, {load.Read()})");
                    using var server = llamaCpp.StartServer(model.Gguf[type], Streams, SlotContext);
                    Serve(row["llama.cpp " + type], server, random, repeats);
                }
            }
            load.Read();

            Console.WriteLine();
            Console.WriteLine($"{model.Shape}, random weights (seed {Seed}), llama.cpp {buildCommit} CPU, {threads} threads; prompt {ModelBenchmark.PromptLength} tokens, " +
                              $"{NewTokens} new tokens; best of {rounds * repeats} samples (llama-bench: {rounds * Math.Max(repeats, 5)}), (min–max) of them; {load.Summary()}");
            Console.WriteLine();
            ComparisonTable.Print(Console.Out, rows);
            return 0;
        }
        finally
        {
            if (keep) Console.WriteLine($"files kept in {work}");
            else Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// The export is right, or nothing is measured: llama-server's greedy tokens on every GGUF file and GenAI's engine's on
    /// F32 and BF16, for the same prompts; llama.cpp F32 must equal GenAI F32. Fills each row's agreement with GenAI F32.
    /// </summary>
    private static bool CheckGreedy(ComparisonModel model, LlamaCppBuild llamaCpp, Dictionary<string, ComparisonRow> row)
    {
        var prompts = GreedyCheck.Prompts();
        List<int[]>? reference = null;
        foreach (var mode in GenAIModes)
        {
            string folder = mode.Folder(model);
            using var loaded = ModelLoader.Load(folder, mode.LoadOptions);
            var greedy = GreedyCheck.GenAI(loaded, folder, prompts, GreedyTokens);
            reference ??= greedy;
            row["GenAI " + mode.Precision].Greedy = GreedyCheck.Agreement(reference, greedy);
        }
        foreach (string type in LlamaTypes)
        {
            using var server = llamaCpp.StartServer(model.Gguf[type], 1, 256);
            var greedy = GreedyCheck.LlamaServer(server.BaseUri, prompts, GreedyTokens);
            row["llama.cpp " + type].Greedy = GreedyCheck.Agreement(reference!, greedy);
            if (type == ComparisonModel.F32 && !GreedyCheck.Identical(reference!, greedy))
            {
                Console.Error.WriteLine($"llama.cpp F32 does not produce GenAI F32's greedy tokens ({row["llama.cpp F32"].Greedy}): the GGUF export is wrong; nothing measured.");
                return false;
            }
        }
        Console.WriteLine($"greedy check: llama.cpp F32 = GenAI F32 on {prompts.Count} prompts × {GreedyTokens} tokens");
        return true;
    }

    /// <summary>GenAI's model benchmark (<see cref="ModelBenchmark.Measure"/>) on the folder's weights, in this process.</summary>
    private static void MeasureRaw(ComparisonModel model, GenAIMode mode, ComparisonRow row, int repeats, string when)
    {
        Console.WriteLine($"raw: GenAI {mode.Precision} ({when})");
        using var loaded = ModelLoader.Load(mode.Folder(model), mode.LoadOptions);
        // Decode from an empty cache, as llama-bench's tg128 does (the same attention work on both sides: after a 128-token
        // prompt GenAI's float32 cache would read 6x the key/value bytes of llama.cpp's F16 cache at positions 0-127).
        var figures = ModelBenchmark.Measure(loaded, NewTokens, repeats, decodeContext: 1);
        row.PrefillMilliseconds = Figure.Join(row.PrefillMilliseconds, figures.PrefillMilliseconds);
        row.RawBatch1 = Figure.Join(row.RawBatch1, figures.Batch1TokensPerSecond);
        row.RawBatch8 = Figure.Join(row.RawBatch8, figures.Batch8TokensPerSecond);
    }

    /// <summary>llama-bench pp128 and tg128 on every GGUF file, in one process; returns its build commit.</summary>
    private static string MeasureLlamaBench(ComparisonModel model, LlamaCppBuild llamaCpp, Dictionary<string, ComparisonRow> row, int repeats, string when)
    {
        Console.WriteLine($"raw: llama-bench ({when})");
        var bench = llamaCpp.Bench(LlamaTypes.Select(t => model.Gguf[t]), ModelBenchmark.PromptLength, NewTokens, Math.Max(repeats, 5));
        foreach (string type in LlamaTypes)
        {
            var results = bench.Where(b => b.Model == model.Gguf[type]).ToList();
            var prefill = results.Single(b => b.PromptTokens > 0);
            var current = row["llama.cpp " + type];
            current.PrefillMilliseconds = Figure.Join(current.PrefillMilliseconds, prefill.TokensPerSecond.Select(ts => prefill.PromptTokens / ts * 1e3, higherIsBetter: false));
            current.RawBatch1 = Figure.Join(current.RawBatch1, results.Single(b => b.GeneratedTokens > 0).TokensPerSecond);
        }
        return bench[0].BuildCommit;
    }

    /// <summary>Of two readings (rounds), the one further from the target.</summary>
    private static ServerMemory Worse(ServerMemory? earlier, ServerMemory now) => earlier is null || now.Ratio > earlier.Ratio ? now : earlier;

    private static void Serve(ComparisonRow row, ServerProcess server, Random random, int repeats)
    {
        var figures = new ServingMeasurement(server.BaseUri, ModelBenchmark.PromptLength, NewTokens, random).Measure(Streams, repeats);
        row.HttpBatch1 = Figure.Join(row.HttpBatch1, figures.Batch1TokensPerSecond);
        row.HttpConcurrent = Figure.Join(row.HttpConcurrent, figures.ConcurrentTokensPerSecond);
        row.HttpConcurrentTtft = Figure.Join(row.HttpConcurrentTtft, figures.ConcurrentTtftP50Milliseconds);
        row.ServerResidentBytes = Math.Max(row.ServerResidentBytes ?? 0, server.ResidentBytes);
    }
}
