using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Core.Generation;
using GenAI.Core.Models;
using GenAI.Core.Tokenization;

namespace GenAI.Benchmarks.LlamaCpp;

/// <summary>
/// The check that the GGUF export is right: the same token-id prompts, greedy, EOS ignored, through GenAI's engine
/// (the path its server serves) and through llama-server's <c>/completion</c> (<c>return_tokens</c>); the generated ids
/// are compared token by token. On F32 weights they must be identical; lower precisions report where they part.
/// </summary>
internal static class GreedyCheck
{
    /// <summary>The prompts: a few random token-id sequences (fixed seed; never the EOS id 50256).</summary>
    public static List<int[]> Prompts(int count = 4, int length = 24)
    {
        var random = new Random(20250220);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, length).Select(_ => random.Next(50000)).ToArray()).ToList();
    }

    /// <summary>GenAI's greedy continuation of each prompt by <paramref name="model"/> (through a one-row engine).</summary>
    public static List<int[]> GenAI(CausalLanguageModel model, string folder, IReadOnlyList<int[]> prompts, int newTokens)
    {
        var tokenizer = TokenizerLoader.Load(folder);
        using var engine = new InferenceEngine(model, tokenizer, new EngineOptions { MaxBatchRows = 1, MaxSequenceLength = prompts.Max(p => p.Length) + newTokens });
        var parameters = new SamplingParameters { Temperature = 0, MaxTokens = newTokens, IgnoreEos = true };
        return prompts.Select(prompt => Collect(engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = parameters })).Result).ToList();
    }

    /// <summary>llama-server's greedy continuation of each prompt (temperature 0: its greedy sampler; no prompt cache).</summary>
    public static List<int[]> LlamaServer(Uri server, IReadOnlyList<int[]> prompts, int newTokens)
    {
        using var http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromMinutes(30) }; // llama.cpp's spinning threads crawl on a busy machine
        return prompts.Select(prompt =>
        {
            var body = new JsonObject
            {
                ["prompt"] = new JsonArray(prompt.Select(id => (JsonNode?)id).ToArray()),
                ["n_predict"] = newTokens,
                ["temperature"] = 0,
                ["ignore_eos"] = true,
                ["cache_prompt"] = false,
                ["return_tokens"] = true,
            };
            using var response = http.PostAsJsonAsync("/completion", body).Result;
            response.EnsureSuccessStatusCode();
            using var document = JsonDocument.Parse(response.Content.ReadAsStringAsync().Result);
            return document.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        }).ToList();
    }

    /// <summary>How many leading tokens of each continuation agree, e.g. "32/32 32/32 17/32 32/32".</summary>
    public static string Agreement(IReadOnlyList<int[]> expected, IReadOnlyList<int[]> actual) =>
        string.Join(' ', expected.Zip(actual, (e, a) => $"{Agreeing(e, a)}/{e.Length}"));

    /// <summary>Whether every continuation is identical.</summary>
    public static bool Identical(IReadOnlyList<int[]> expected, IReadOnlyList<int[]> actual) =>
        expected.Count == actual.Count && expected.Zip(actual).All(p => p.First.SequenceEqual(p.Second));

    private static int Agreeing(int[] expected, int[] actual)
    {
        int n = 0;
        while (n < expected.Length && n < actual.Length && expected[n] == actual[n]) n++;
        return n;
    }

    private static async Task<int[]> Collect(IAsyncEnumerable<GenerationEvent> events)
    {
        var ids = new List<int>();
        await foreach (var e in events)
        {
            if (e.TokenId is int id) ids.Add(id);
        }
        return [.. ids];
    }
}
