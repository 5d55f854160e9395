using System.Diagnostics;

namespace GenAI.Benchmarks.LlamaCpp;

/// <summary>
/// Streaming figures of one running server, measured with <see cref="StreamingCompletionClient"/> (the same client and
/// request body for every server): batch-1 decode tokens/s after the first token, then N concurrent streams' aggregate
/// tokens/s (all tokens over the wall time of the round) and their TTFT p50. Every request has a fresh random prompt, so
/// no server can answer from a prompt cache.
/// </summary>
internal sealed class ServingMeasurement(Uri server, int promptLength, int newTokens, Random random)
{
    /// <summary>The figures of one server.</summary>
    /// <param name="Batch1TokensPerSecond">One stream's decode rate after its first token.</param>
    /// <param name="ConcurrentTokensPerSecond">All streams' tokens over the round's wall time.</param>
    /// <param name="ConcurrentTtftP50Milliseconds">The median time to first token within a round.</param>
    public sealed record Figures(Figure Batch1TokensPerSecond, Figure ConcurrentTokensPerSecond, Figure ConcurrentTtftP50Milliseconds);

    public Figures Measure(int streams, int repeats)
    {
        using var client = new StreamingCompletionClient(server);
        // Warm-up: first requests pay for JIT, allocator growth and thread start-up on either server.
        Retried("warm-up", () =>
        {
            client.OpenConnectionsAsync(streams).Wait();
            Task.WaitAll(Enumerable.Range(0, streams).Select(_ => client.CompleteAsync(Prompt(), 8)).ToArray());
            return Check(client.CompleteAsync(Prompt(), 8).Result, 8);
        });

        var batch1 = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var timing = Retried("one stream", () => Check(client.CompleteAsync(Prompt(), newTokens).Result, newTokens));
            batch1.Add(timing.DecodeTokensPerSecond);
        }

        var aggregate = new List<double>();
        var ttft = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var (timings, seconds) = Retried($"{streams} streams", () =>
            {
                var prompts = Enumerable.Range(0, streams).Select(_ => Prompt()).ToList();
                client.OpenConnectionsAsync(streams).Wait();
                var wall = Stopwatch.StartNew();
                var all = Task.WhenAll(prompts.Select(p => client.CompleteAsync(p, newTokens))).Result;
                return (all, wall.Elapsed.TotalSeconds);
            });
            foreach (var timing in timings) Check(timing, newTokens);
            aggregate.Add(timings.Sum(t => t.CompletionTokens) / seconds);
            var firsts = timings.Select(t => t.FirstToken).Order().ToList();
            ttft.Add(firsts[(firsts.Count - 1) / 2] * 1e3); // nearest-rank p50
        }
        return new Figures(Figure.Rate(batch1), Figure.Rate(aggregate), Figure.Time(ttft));
    }

    /// <summary>
    /// Runs <paramref name="measure"/> again (up to 3 times) when the server ended a response early: llama-server now and
    /// then drops a request on a connection it is closing (cpp-httplib). The sample that completes is the one kept.
    /// </summary>
    private static T Retried<T>(string what, Func<T> measure)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return measure();
            }
            catch (AggregateException e) when (attempt < 3 && e.InnerExceptions.Any(i => i is HttpRequestException))
            {
                Console.WriteLine($"  {what}, attempt {attempt}: {e.InnerExceptions.First(i => i is HttpRequestException).Message}; again");
                Thread.Sleep(3000);
            }
        }
    }

    private int[] Prompt()
    {
        lock (random) return Enumerable.Range(0, promptLength).Select(_ => random.Next(50000)).ToArray();
    }

    private static StreamingCompletionClient.Timing Check(StreamingCompletionClient.Timing timing, int expected) =>
        timing.CompletionTokens == expected
            ? timing
            : throw new InvalidDataException($"a stream gave {timing.CompletionTokens} tokens, not {expected} (EOS must be ignored and the context must hold prompt + output)");
}
