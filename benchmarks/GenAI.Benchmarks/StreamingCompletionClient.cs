using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GenAI.Benchmarks;

/// <summary>
/// One client for every OpenAI-compatible server a benchmark compares (GenAI's, llama.cpp's llama-server): a streaming
/// <c>POST /v1/completions</c> of a token-id prompt, greedy, EOS ignored, timed event by event as the SSE arrives.
/// </summary>
/// <remarks>
/// Connections are opened one at a time: llama-server listens with a backlog of 5 (cpp-httplib's default), and eight
/// connects at the same instant overflow it (the kernel drops the handshake and the request ends without a response).
/// An idle connection is dropped after 2 s, before cpp-httplib's 5-second keep-alive ends it from the server's side
/// (a request sent on a connection the server is closing ends without a response). <see cref="OpenConnectionsAsync"/>
/// opens the connections of a round of concurrent streams before it is timed.
/// </remarks>
internal sealed class StreamingCompletionClient : IDisposable
{
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly HttpClient _http;

    public StreamingCompletionClient(Uri baseUri)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 64,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(2),
            ConnectCallback = ConnectOneAtATimeAsync,
        };
        _http = new HttpClient(handler) { BaseAddress = baseUri, Timeout = TimeSpan.FromMinutes(10) };
    }

    /// <summary>When the events of one streamed completion arrived, in seconds from sending the request.</summary>
    /// <param name="FirstToken">The first event with a choice: time to first token.</param>
    /// <param name="LastToken">The last event with a choice.</param>
    /// <param name="CompletionTokens">The usage chunk's completion_tokens.</param>
    /// <param name="Text">The streamed text.</param>
    public sealed record Timing(double FirstToken, double LastToken, int CompletionTokens, string Text)
    {
        /// <summary>Decode rate after the first token: (tokens − 1) / (last − first).</summary>
        public double DecodeTokensPerSecond => (CompletionTokens - 1) / (LastToken - FirstToken);
    }

    /// <summary>
    /// The request body both servers get: <c>prompt</c> as token ids, <c>max_tokens</c>, <c>temperature</c> 0,
    /// <c>ignore_eos</c> (vLLM's and llama-server's name), <c>stream</c> with a usage chunk.
    /// </summary>
    public static string Body(IReadOnlyList<int> prompt, int maxTokens) => new JsonObject
    {
        ["prompt"] = new JsonArray(prompt.Select(id => (JsonNode?)id).ToArray()),
        ["max_tokens"] = maxTokens,
        ["temperature"] = 0,
        ["ignore_eos"] = true,
        ["stream"] = true,
        ["stream_options"] = new JsonObject { ["include_usage"] = true },
    }.ToJsonString();

    /// <summary>Opens (or keeps warm) <paramref name="count"/> connections: as many concurrent <c>GET /v1/models</c>.</summary>
    public Task OpenConnectionsAsync(int count) => Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
    {
        using var response = await _http.GetAsync("/v1/models");
        response.EnsureSuccessStatusCode();
    }));

    public async Task<Timing> CompleteAsync(IReadOnlyList<int> prompt, int maxTokens)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent(Body(prompt, maxTokens), Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        var clock = Stopwatch.StartNew();
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"POST /v1/completions answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double first = -1, last = -1;
        int? tokens = null;
        var text = new StringBuilder();
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal) || line == "data: [DONE]") continue;
            double now = clock.Elapsed.TotalSeconds;
            using var chunk = JsonDocument.Parse(line.AsMemory("data: ".Length));
            var root = chunk.RootElement;
            if (root.TryGetProperty("error", out var error)) throw new HttpRequestException($"the stream ended with an error: {error}");
            if (root.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0)
            {
                if (first < 0) first = now;
                last = now;
                if (choices[0].TryGetProperty("text", out var piece) && piece.ValueKind == JsonValueKind.String) text.Append(piece.GetString());
            }
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object) tokens = usage.GetProperty("completion_tokens").GetInt32();
        }
        if (first < 0 || tokens is null) throw new InvalidDataException("the stream had no token or no usage chunk");
        return new Timing(first, last, tokens.Value, text.ToString());
    }

    public void Dispose()
    {
        _http.Dispose();
        _connecting.Dispose();
    }

    private async ValueTask<Stream> ConnectOneAtATimeAsync(SocketsHttpConnectionContext context, CancellationToken cancellation)
    {
        await _connecting.WaitAsync(cancellation);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellation);
            await Task.Delay(5, cancellation); // the server's accept loop takes the connection off its queue
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        finally
        {
            _connecting.Release();
        }
    }
}
