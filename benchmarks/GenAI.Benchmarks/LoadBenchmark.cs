using System.Diagnostics;
using System.Net;
using System.Text;

namespace GenAI.Benchmarks;

/// <summary>
/// Load on the real server process: C concurrent streaming clients (C = 1, 8, 32) for a fixed time each, printing
/// aggregate tokens/s, time to first token p50/p99 and the counts of 2xx, 429 and other responses; then three
/// consecutive runs at the highest C with the server's resident memory after each; the memory after load and after
/// the runs against the weights and KV cache the server allocated (<see cref="ServerMemory"/>).
/// </summary>
internal static class LoadBenchmark
{
    public static int Run(string[] args)
    {
        var options = new Options(args);
        int seconds = options.Int("seconds", 20);
        int maxTokens = options.Int("max-tokens", 64);
        string model = options.String("model", Paths.Gpt2TokenizerFolder);
        using var server = ServerProcess.StartGenAI(model);
        var baseUri = server.BaseUri;
        Console.WriteLine($"server pid {server.Process.Id}, model {model}, default limits, {seconds} s per run, max_tokens {maxTokens}, streaming");
        Console.WriteLine($"memory after load: {ServerMemory.Read(server)}");
        Console.WriteLine($"{"C",3} {"tok/s",8} {"TTFT p50",9} {"TTFT p99",9} {"2xx",6} {"429",6} {"other",6} {"RSS MiB",8}");
        foreach (int c in new[] { 1, 8, 32 }) Print(c, RunLoad(baseUri, c, seconds, maxTokens), server);
        Console.WriteLine("three consecutive runs at C = 32 (memory must stay flat):");
        for (int i = 0; i < 3; i++) Print(32, RunLoad(baseUri, 32, seconds, maxTokens), server);
        Console.WriteLine($"memory after the runs: {ServerMemory.Read(server)}");
        return 0;
    }

    private sealed class Result
    {
        public long Tokens;
        public int Ok, Busy, Other;
        public readonly List<double> Ttft = [];
        public double Seconds;
    }

    private static Result RunLoad(Uri baseUri, int clients, int seconds, int maxTokens)
    {
        var result = new Result();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients + 4 }) { BaseAddress = baseUri, Timeout = TimeSpan.FromMinutes(5) };
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var clock = Stopwatch.StartNew();
        var body = $$"""{"prompt": "Once upon a time there was", "max_tokens": {{maxTokens}}, "temperature": 0.8, "stream": true}""";
        var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (DateTime.UtcNow < deadline)
            {
                var started = Stopwatch.StartNew();
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                    if (response.StatusCode == HttpStatusCode.TooManyRequests)
                    {
                        Interlocked.Increment(ref result.Busy);
                        await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                        continue;
                    }
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref result.Other);
                        continue;
                    }
                    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
                    bool first = true, failed = false;
                    string? line;
                    while ((line = await reader.ReadLineAsync()) is not null)
                    {
                        if (!line.StartsWith("data: ", StringComparison.Ordinal) || line == "data: [DONE]") continue;
                        if (line.Contains("\"error\"", StringComparison.Ordinal)) failed = true;
                        if (first)
                        {
                            lock (result.Ttft) result.Ttft.Add(started.Elapsed.TotalSeconds);
                            first = false;
                        }
                        Interlocked.Increment(ref result.Tokens);
                    }
                    if (failed) Interlocked.Increment(ref result.Other);
                    else Interlocked.Increment(ref result.Ok);
                }
                catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
                {
                    Interlocked.Increment(ref result.Other);
                }
            }
        })).ToArray();
        Task.WaitAll(workers);
        result.Seconds = clock.Elapsed.TotalSeconds;
        return result;
    }

    private static void Print(int clients, Result r, ServerProcess server)
    {
        Console.WriteLine($"{clients,3} {r.Tokens / r.Seconds,8:F1} {Percentiles.Milliseconds(r.Ttft, 50),9} {Percentiles.Milliseconds(r.Ttft, 99),9} {r.Ok,6} {r.Busy,6} {r.Other,6} {server.ResidentBytes / (1024.0 * 1024),8:F0}");
    }
}
