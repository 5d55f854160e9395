using System.Diagnostics;
using GenAI.Core.Generation;
using GenAI.Core.Models.Gpt2;
using GenAI.Core.Runtime;
using GenAI.Core.Tokenization;

namespace GenAI.Benchmarks;

/// <summary>
/// Continuous batching against the GPT-2-124M-shaped model: N concurrent greedy requests (128-token prompts, 128 new
/// tokens) for N = 1, 4, 8, 16 (aggregate tokens/s, time to first token, inter-token latency); a running stream's
/// longest wait while 8 new prompts arrive at once (chunked prefill); and the time to first token of a request
/// extending a ~900-token prefix, cold and from the prefix cache.
/// </summary>
internal static class EngineBenchmark
{
    public static int Run(string[] args)
    {
        var options = new Options(args);
        int promptLength = options.Int("prompt", 128), newTokens = options.Int("new-tokens", 128), trials = options.Int("arrival-trials", 3);
        bool trace = options.String("trace", "no") == "yes";
        string only = options.String("only", "all");
        var concurrency = new[] { 1, 4, 8, 16 };
        TorchRuntime.EnsureAvailable();
        var tokenizer = TokenizerLoader.Load(Paths.Gpt2TokenizerFolder);
        var config = ShapedConfigs.Gpt2_124M();
        using var model = Gpt2Architecture.Instance.Create(config);
        model.InitializeWeights(seed: 1234);
        model.eval();
        using var engine = new InferenceEngine(model, tokenizer, new EngineOptions { MaxBatchRows = 16, MaxSequenceLength = config.Positions, PrefixCacheBytes = 0 });
        RunConcurrent(engine, 2, promptLength, 8); // warm-up: JIT, allocator, thread pools
        if (only == "arrivals")
        {
            Arrivals(engine, promptLength, trials, trace);
            return 0;
        }
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
        Arrivals(engine, promptLength, trials, trace);
        SharedPrefix(model, tokenizer);
        return 0;
    }

    /// <summary>
    /// One stream decodes; once it is steady, 8 prompts arrive at once. Its usual gap (median before) against its
    /// longest gap while they are prefilled: the issue's bound is 6×. Several trials, as one preemption of the
    /// benchmark on a shared machine is one long gap; each line shows what the engine did in the worst gap.
    /// </summary>
    private static void Arrivals(InferenceEngine engine, int promptLength, int trials, bool trace)
    {
        Console.WriteLine();
        var ratios = new List<double>();
        var ttftMedians = new List<double>();
        for (int trial = 0; trial < trials; trial++)
        {
            var (usual, worst, ttfts, inWorst, longest) = ArrivalTrial(engine, promptLength, new Random(7 + trial), trace);
            ratios.Add(worst / usual);
            ttftMedians.Add(Percentiles.Of(ttfts, 50));
            Console.WriteLine($"8 prompts of {promptLength} tokens arrive while one stream decodes: its usual gap {usual * 1e3:F0} ms, " +
                              $"longest gap while they are read {worst * 1e3:F0} ms ({worst / usual:F1}x; bound 6x); " +
                              $"their TTFT p50 {Percentiles.Milliseconds(ttfts, 50)}, p99 {Percentiles.Milliseconds(ttfts, 99)}; in the longest gap: {inWorst}; " +
                              $"longest prefill pass {longest.Prefill * 1e3:F0} ms, longest decode step {longest.Decode * 1e3:F0} ms ({longest.Decode / usual:F1}x: above ~2x is the machine's load, not the schedule)");
        }
        Console.WriteLine($"arrivals over {trials} trials: longest gap / usual gap median {Percentiles.Of(ratios, 50):F1}x, worst {ratios.Max():F1}x " +
                          $"(target <= 6x); arrivals' TTFT p50 median {Percentiles.Of(ttftMedians, 50) * 1e3:F0} ms");
    }

    private static (double Usual, double Worst, List<double> Ttfts, string InWorst, (double Prefill, double Decode) Longest) ArrivalTrial(
        InferenceEngine engine, int promptLength, Random random, bool trace)
    {
        List<int> Prompt(int length) => Enumerable.Range(0, length).Select(_ => random.Next(50000)).ToList();
        var stamps = new List<double>();
        var clock = Stopwatch.StartNew();
        // What the engine thread did, stamped when each pass ended: prefill passes (prompts, tokens) and decode steps (rows).
        var passes = new List<(double At, string What)>();
        Action<int, int> onPrefill = (prompts, tokens) => { lock (passes) passes.Add((clock.Elapsed.TotalSeconds, $"P{prompts}x{tokens}")); };
        Action<int> onDecode = rows => { lock (passes) passes.Add((clock.Elapsed.TotalSeconds, $"D{rows}")); };
        engine.PrefillCompleted += onPrefill;
        engine.StepCompleted += onDecode;
        var running = Task.Run(async () =>
        {
            var parameters = new SamplingParameters { Temperature = 0, MaxTokens = 200, IgnoreEos = true };
            await foreach (var _ in engine.Submit(new GenerationRequest { PromptTokens = Prompt(16), Parameters = parameters }))
            {
                lock (stamps) stamps.Add(clock.Elapsed.TotalSeconds);
            }
        });
        while (true)
        {
            lock (stamps) if (stamps.Count >= 40) break;
            Thread.Sleep(5);
        }
        double arrival = clock.Elapsed.TotalSeconds;
        var ttfts = new List<double>();
        var arrivals = Enumerable.Range(0, 8).Select(_ => Prompt(promptLength)).Select(prompt => Task.Run(async () =>
        {
            var parameters = new SamplingParameters { Temperature = 0, MaxTokens = 8, IgnoreEos = true };
            await foreach (var _ in engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = parameters }))
            {
                lock (ttfts) ttfts.Add(clock.Elapsed.TotalSeconds - arrival);
                break;
            }
        })).ToArray();
        Task.WaitAll(arrivals);
        double prefilled = clock.Elapsed.TotalSeconds;
        running.Wait();
        engine.PrefillCompleted -= onPrefill;
        engine.StepCompleted -= onDecode;
        var gaps = stamps.Zip(stamps.Skip(1), (a, b) => (At: b, Gap: b - a)).ToList();
        var before = gaps.Where(g => g.At < arrival).Select(g => g.Gap).ToList();
        double usual = Percentiles.Of(before, 50);
        var worst = gaps.Where(g => g.At >= arrival && g.At <= prefilled + usual).DefaultIfEmpty((At: 0.0, Gap: 0.0)).MaxBy(g => g.Gap);
        string inWorst;
        (double Prefill, double Decode) longest = (0, 0);
        lock (passes)
        {
            // Each pass lasted from the end of the one before it (the engine thread runs them back to back while busy).
            var window = passes.Where(p => p.At >= arrival && p.At <= prefilled).ToList();
            for (int i = 1; i < window.Count; i++)
            {
                double took = window[i].At - window[i - 1].At;
                if (window[i].What[0] == 'P') longest.Prefill = Math.Max(longest.Prefill, took);
                else longest.Decode = Math.Max(longest.Decode, took);
            }
            if (trace)
            {
                Console.WriteLine("  timeline (pass:ms since the previous): " + string.Join(" ", window.Zip(window.Skip(1), (a, b) => $"{b.What}:{(b.At - a.At) * 1e3:F0}")));
            }
            double previous = worst.At - worst.Gap;
            inWorst = string.Join(" ", passes.Where(p => p.At > previous - 0.002 && p.At <= worst.At + 0.002)
                .Select(p => { string text = $"{p.What}:{(p.At - previous) * 1e3:F0}ms"; previous = p.At; return text; }));
        }
        return (usual, worst.Gap, ttfts, inWorst, longest);
    }

    /// <summary>
    /// A ~900-token prompt, then a request extending it by a few tokens: time to first token without and with the
    /// prefix cache (the issue asks ≥ 5× lower), and the same greedy text for the repeated prompt either way.
    /// </summary>
    private static void SharedPrefix(Core.Models.CausalLanguageModel model, TextTokenizer tokenizer)
    {
        var random = new Random(9);
        var prefix = Enumerable.Range(0, 900).Select(_ => random.Next(50000)).ToList();
        var extended = prefix.Concat(Enumerable.Range(0, 20).Select(_ => random.Next(50000))).ToList();
        var parameters = new SamplingParameters { Temperature = 0, MaxTokens = 16, IgnoreEos = true };
        (double Ttft, List<int> Tokens) Run(InferenceEngine engine, List<int> prompt)
        {
            var clock = Stopwatch.StartNew();
            double ttft = 0;
            var tokens = new List<int>();
            foreach (var e in engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = parameters }).ToBlockingEnumerable())
            {
                if (tokens.Count == 0) ttft = clock.Elapsed.TotalSeconds;
                if (e.TokenId is int id) tokens.Add(id);
            }
            return (ttft, tokens);
        }
        using var cached = new InferenceEngine(model, tokenizer, new EngineOptions { MaxSequenceLength = 1024 });
        using var plain = new InferenceEngine(model, tokenizer, new EngineOptions { MaxSequenceLength = 1024, PrefixCacheBytes = 0 });
        var cold = Run(cached, prefix);
        var warm = Run(cached, extended);
        var repeated = Run(cached, prefix);
        var uncached = Run(plain, extended);
        Console.WriteLine($"900-token prefix: TTFT cold {cold.Ttft * 1e3:F0} ms; extended by 20 tokens {warm.Ttft * 1e3:F0} ms from the prefix cache " +
                          $"({cold.Ttft / warm.Ttft:F1}x lower; without the cache {uncached.Ttft * 1e3:F0} ms); repeated prompt {repeated.Ttft * 1e3:F0} ms, " +
                          $"same greedy text: {(repeated.Tokens.SequenceEqual(cold.Tokens) && warm.Tokens.SequenceEqual(uncached.Tokens) ? "yes" : "NO")}");
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
