using System.Diagnostics;
using GenAI.Core.Generation;
using GenAI.Core.Generation.Constraints;
using GenAI.Core.Models;
using GenAI.Core.Models.Gpt2;
using GenAI.Core.Models.Llama;
using GenAI.Core.Runtime;
using GenAI.Core.Tokenization;

namespace GenAI.Benchmarks;

/// <summary>
/// The price of constrained decoding: one stream's decode tokens/s without a constraint, with a JSON schema and with
/// json_object (greedy and sampled, random weights — so most tokens are written inside strings, where any text is
/// allowed), and the time masks take per constrained token (computed, or found in the tokenizer's cache). The goal is
/// ≥ 90% of the unconstrained speed. Also the one-time cost of a tokenizer's index and of compiling the schema. "bounded"
/// is the hard case: a long array of objects with short, counted strings, where nearly every token reaches a new state.
/// </summary>
internal static class ConstrainedBenchmark
{
    private const string Schema = """
        {"type": "object", "properties": {
           "name": {"type": "string"},
           "age": {"type": "integer", "minimum": 0, "maximum": 130},
           "email": {"type": ["string", "null"], "format": "uuid"},
           "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 8},
           "address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                       "required": ["street", "city"], "additionalProperties": false},
           "bio": {"type": "string"}
         }, "required": ["name", "age", "email", "tags", "address", "bio"], "additionalProperties": false}
        """;

    /// <summary>The hard case: short strings (maxLength: a character-counting automaton, no plain-string shortcut), bounded
    /// numbers, enums — a new state at nearly every token.</summary>
    private const string Bounded = """
        {"type": "array", "items": {"type": "object", "properties": {
           "name": {"type": "string", "maxLength": 12},
           "age": {"type": "integer", "minimum": 0, "maximum": 130},
           "color": {"enum": ["red", "green", "blue"]},
           "score": {"type": "number", "minimum": -1, "maximum": 1},
           "code": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"}
         }, "required": ["name", "age", "color", "score", "code"], "additionalProperties": false}, "minItems": 50}
        """;

    public static int Run(string[] args)
    {
        var options = new Options(args);
        string which = options.String("model", "both");
        int newTokens = options.Int("new-tokens", 128), repeats = options.Int("repeats", 3);
        TorchRuntime.EnsureAvailable();
        if (which is "gpt2" or "both")
        {
            var tokenizer = TokenizerLoader.Load(Paths.Gpt2TokenizerFolder);
            using var model = Gpt2Architecture.Instance.Create(ShapedConfigs.Gpt2_124M());
            Measure("GPT-2-124M shape, GPT-2 vocabulary (50257)", model, tokenizer, newTokens, repeats);
        }
        if (which is "qwen" or "both")
        {
            string folder = TokenizerBenchmark.Unpack("qwen3");
            var tokenizer = TokenizerLoader.Load(folder);
            Directory.Delete(folder, recursive: true);
            using var model = LlamaFamily.Qwen2.Create(ShapedConfigs.Qwen25_05B());
            Measure("Qwen2.5-0.5B shape, Qwen vocabulary (151936)", model, tokenizer, newTokens, repeats);
        }
        return 0;
    }

    private static void Measure(string title, CausalLanguageModel model, TextTokenizer tokenizer, int newTokens, int repeats)
    {
        model.InitializeWeights(seed: 1234);
        model.eval();
        var watch = Stopwatch.StartNew();
        var schema = JsonConstraint.FromSchema(Schema);
        double compileMs = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        schema.Prepare(tokenizer);
        double indexMs = watch.Elapsed.TotalMilliseconds;
        var anyObject = JsonConstraint.AnyObject();
        var bounded = JsonConstraint.FromSchema(Bounded);
        using var engine = new InferenceEngine(model, tokenizer, new EngineOptions { MaxBatchRows = 4, MaxSequenceLength = 1024, PrefixCacheBytes = 0 });
        var prompt = tokenizer.Encode("Write a JSON object that describes a person:");
        Console.WriteLine($"{title}: {model.ParameterCount / 1e6:F0}M parameters, {newTokens} new tokens, 1 stream, median of {repeats} runs taking turns");
        Console.WriteLine($"  schema compiled in {compileMs:F1} ms; the tokenizer's index (token bytes, tries) built in {indexMs:F0} ms, once per tokenizer");
        Console.WriteLine("  tok/s: decode speed (prefill excluded); constraint ms/tok: all the constraint's work on the engine's thread per token");
        Console.WriteLine("  (masks, masking the row, stepping the automaton) and its share of an unconstrained token's time; masks: computed (not cached)");
        Console.WriteLine($"  {"decoding",-9} {"constraint",-12} {"tok/s",7} {"vs none",8} {"constraint ms/tok",18} {"share",6} {"masks",6} {"tokens",7}");
        var variants = new (string Name, JsonConstraint? Constraint)[] { ("none", null), ("json_schema", schema), ("json_object", anyObject), ("bounded", bounded) };
        foreach (bool greedy in new[] { false, true })
        {
            // Warm-up (JIT, allocator, pages), then each constraint's first run: a cold mask cache for its grammar.
            Run(engine, prompt, greedy, null, newTokens, 99);
            var first = variants.Select(v => Run(engine, prompt, greedy, v.Constraint, newTokens, 100)).ToArray();
            // Then the variants take turns, repeat after repeat, so that a machine whose load drifts treats them alike.
            var results = variants.Select(_ => new List<Result>()).ToArray();
            for (int r = 0; r < repeats; r++)
            {
                for (int v = 0; v < variants.Length; v++) results[v].Add(Run(engine, prompt, greedy, variants[v].Constraint, newTokens, r + 1));
            }
            double baseline = Median(results[0]).TokensPerSecond;
            for (int v = 0; v < variants.Length; v++)
            {
                Print(greedy, variants[v].Name, Median(results[v]), baseline);
                if (v > 0) Print(greedy, "  (cold)", first[v], baseline);
            }
        }
        Console.WriteLine();
    }

    private static void Print(bool greedy, string constraint, Result result, double baseline)
    {
        string work = constraint == "none" ? "" : $"{result.ConstraintMsPerToken,18:F3} {result.ConstraintMsPerToken * baseline / 1000,6:P1} {result.MasksComputed,6}";
        Console.WriteLine($"  {(greedy ? "greedy" : "sampled"),-9} {constraint,-12} {result.TokensPerSecond,7:F1} {result.TokensPerSecond / baseline,7:P0} {work,-32} {result.Tokens,7}");
    }

    private sealed record Result(double TokensPerSecond, double ConstraintMsPerToken, long MasksComputed, int Tokens);

    private static Result Median(List<Result> results) => results.OrderBy(r => r.TokensPerSecond).ElementAt(results.Count / 2);

    /// <summary>One stream; decode tokens/s from its first token to its last (prefill excluded).</summary>
    private static Result Run(InferenceEngine engine, IReadOnlyList<int> prompt, bool greedy, JsonConstraint? constraint, int newTokens, int seed)
    {
        var parameters = new SamplingParameters
        {
            MaxTokens = newTokens, Temperature = greedy ? 0 : 1.0, Seed = seed, IgnoreEos = constraint is null,
            Constraint = constraint is null ? null : new OutputConstraint(constraint),
        };
        var before = engine.ConstraintWork;
        var clock = Stopwatch.StartNew();
        double first = 0, last = 0;
        int count = 0;
        foreach (var e in engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = parameters }).ToBlockingEnumerable())
        {
            if (e.TokenId is null) continue;
            if (count++ == 0) first = clock.Elapsed.TotalSeconds;
            last = clock.Elapsed.TotalSeconds;
        }
        // The engine adds a request's mask time when it removes the request, at its next step: wait for that.
        var deadline = Stopwatch.StartNew();
        while (constraint is not null && engine.ConstraintWork.Tokens == before.Tokens && deadline.Elapsed.TotalSeconds < 5) Thread.Sleep(1);
        var after = engine.ConstraintWork;
        long constrained = after.Tokens - before.Tokens;
        double maskMs = constrained == 0 ? 0 : (after.Time - before.Time).TotalMilliseconds / constrained;
        return new Result(count > 1 ? (count - 1) / (last - first) : 0, maskMs, after.MasksComputed - before.MasksComputed, count);
    }
}
