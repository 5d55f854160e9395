using System.Diagnostics;
using GenAI.Core.Generation;
using GenAI.Core.Models.Gpt2;
using GenAI.Core.Runtime;
using GenAI.Core.Tokenization;

namespace GenAI.Benchmarks;

/// <summary>
/// Continuous batching: N concurrent greedy requests (128-token prompts, 128 new tokens) against the
/// GPT-2-124M-shaped model, for N = 1, 4, 8, 16: aggregate tokens/s, time to first token, inter-token latency.
/// </summary>
internal static class EngineBenchmark
{
    public static int Run(string[] args)
    {
        var options = new Options(args);
        int promptLength = options.Int("prompt", 128), newTokens = options.Int("new-tokens", 128);
        var concurrency = new[] { 1, 4, 8, 16 };
        TorchRuntime.EnsureAvailable();
        var tokenizer = TokenizerLoader.Load(Paths.Gpt2TokenizerFolder);
        var config = ShapedConfigs.Gpt2_124M();
        using var model = Gpt2Architecture.Instance.Create(config);
        model.InitializeWeights(seed: 1234);
        model.eval();
        using var engine = new InferenceEngine(model, tokenizer, new EngineOptions { MaxBatchRows = 16, MaxSequenceLength = promptLength + newTokens });
        RunConcurrent(engine, 2, promptLength, 8); // warm-up: JIT, allocator, thread pools
        Console.WriteLine($"GPT-2-124M shape, F32, {promptLength}-token prompts, {newTokens} new tokens, greedy");
        Console.WriteLine($"{"N",3} {"tok/s",8} {"TTFT p50",9} {"TTFT p99",9} {"ITL p50",8} {"ITL p99",8} {"wall s",7}");
        double? single = null;
        foreach (int n in concurrency)
        {
            var result = RunConcurrent(engine, n, promptLength, newTokens);
            single ??= result.TokensPerSecond;
            Console.WriteLine($"{n,3} {result.TokensPerSecond,8:F1} {Percentiles.Milliseconds(result.Ttft, 50),9} {Percentiles.Milliseconds(result.Ttft, 99),9} {Percentiles.Milliseconds(result.Itl, 50),8} {Percentiles.Milliseconds(result.Itl, 99),8} {result.Wall,7:F1}" +
                              (n == 1 ? "" : $"   ({result.TokensPerSecond / single:F2}x N=1)"));
        }
        return 0;
    }

    private sealed record Result(double TokensPerSecond, List<double> Ttft, List<double> Itl, double Wall);

    private static Result RunConcurrent(InferenceEngine engine, int n, int promptLength, int newTokens)
    {
        var random = new Random(n);
        var parameters = new SamplingParameters { Temperature = 0, MaxTokens = newTokens, IgnoreEos = true };
        var ttft = new List<double>();
        var itl = new List<double>();
        long tokens = 0;
        var wall = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, n).Select(_ =>
        {
            var prompt = Enumerable.Range(0, promptLength).Select(_ => random.Next(50000)).ToList();
            return Task.Run(async () =>
            {
                var clock = Stopwatch.StartNew();
                double last = 0;
                bool first = true;
                var gaps = new List<double>();
                int count = 0;
                await foreach (var e in engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = parameters }))
                {
                    double now = clock.Elapsed.TotalSeconds;
                    if (first) { lock (ttft) ttft.Add(now); first = false; }
                    else gaps.Add(now - last);
                    last = now;
                    count++;
                }
                lock (itl) itl.AddRange(gaps);
                Interlocked.Add(ref tokens, count);
            });
        }).ToArray();
        Task.WaitAll(tasks);
        double seconds = wall.Elapsed.TotalSeconds;
        return new Result(tokens / seconds, ttft, itl, seconds);
    }
}
