using System.Buffers;
using System.Text;
using System.Text.Json;

namespace GenAI.Server.Api;

/// <summary>
/// A text/event-stream response: one <c>data: {json}</c> event per chunk, <c>data: [DONE]</c> at the end, and a
/// <c>:</c> comment after every <see cref="KeepAlive"/> of silence. The JSON is written compact, and System.Text.Json
/// escapes line breaks inside strings, so a chunk is always a single <c>data:</c> line.
/// </summary>
public sealed class ServerSentEvents : IAsyncDisposable
{
    private readonly HttpResponse _response;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keepAlive;
    private readonly Utf8JsonWriter _json = new(Stream.Null, new JsonWriterOptions { Encoder = JsonBody.Options.Encoder }); // reset onto the body per event
    private long _lastWrite = Environment.TickCount64;

    private ServerSentEvents(HttpResponse response, TimeSpan keepAlive)
    {
        _response = response;
        KeepAlive = keepAlive;
        _keepAlive = Task.Run(KeepAliveLoop);
    }

    public TimeSpan KeepAlive { get; }

    /// <summary>Sends the headers (status 200) and starts the keep-alive.</summary>
    public static async Task<ServerSentEvents> StartAsync(HttpResponse response, TimeSpan keepAlive, CancellationToken cancellation)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.BodyWriter.FlushAsync(cancellation).ConfigureAwait(false);
        return new ServerSentEvents(response, keepAlive);
    }

    public Task WriteAsync<T>(T chunk, CancellationToken cancellation) => WriteAsync(chunk, flush: true, cancellation);

    /// <summary>
    /// Writes one <c>data:</c> event, serialized straight into the response's pipe (no string, no byte array); with
    /// <paramref name="flush"/> false it stays buffered until the next flush, so a streaming loop can send everything
    /// one engine step produced in one write to the socket.
    /// </summary>
    public async Task WriteAsync<T>(T chunk, bool flush, CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            var body = _response.BodyWriter;
            body.Write("data: "u8);
            WriteJson(chunk, typeof(T));
            body.Write("\n\n"u8);
            if (flush) await FlushLockedAsync(cancellation).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends the events written so far.</summary>
    public async Task FlushAsync(CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            await FlushLockedAsync(cancellation).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A named event, as the Responses API sends them (and without a closing <c>[DONE]</c>): <c>event: {name}</c>, then
    /// its data as the JSON of <paramref name="data"/>'s runtime type, serialized straight into the pipe; with
    /// <paramref name="flush"/> false it stays buffered until the next flush (see <see cref="WriteAsync{T}(T, bool, CancellationToken)"/>).
    /// </summary>
    public async Task WriteEventAsync(string name, object data, bool flush, CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            var body = _response.BodyWriter;
            body.Write("event: "u8);
            Encoding.UTF8.GetBytes(name, body);
            body.Write("\ndata: "u8);
            WriteJson(data, data.GetType());
            body.Write("\n\n"u8);
            if (flush) await FlushLockedAsync(cancellation).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    // The JSON of value as type, compact, into the pipe (committed before the event's end is written after it).
    private void WriteJson(object? value, Type type)
    {
        _json.Reset(_response.BodyWriter);
        JsonSerializer.Serialize(_json, value, type, JsonBody.Options);
        _json.Flush();
    }

    public Task DoneAsync(CancellationToken cancellation) => WriteRawAsync("data: [DONE]\n\n", cancellation);

    private async Task WriteRawAsync(string text, CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            _response.BodyWriter.Write(Encoding.UTF8.GetBytes(text));
            await FlushLockedAsync(cancellation).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask FlushLockedAsync(CancellationToken cancellation)
    {
        await _response.BodyWriter.FlushAsync(cancellation).ConfigureAwait(false);
        Interlocked.Exchange(ref _lastWrite, Environment.TickCount64);
    }

    private async Task KeepAliveLoop()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(100, KeepAlive.TotalMilliseconds / 4)));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                if (Environment.TickCount64 - Interlocked.Read(ref _lastWrite) >= KeepAlive.TotalMilliseconds)
                {
                    await WriteRawAsync(": keep-alive\n\n", _stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _keepAlive.ConfigureAwait(false);
        _stop.Dispose();
        _gate.Dispose();
        _json.Reset(Stream.Null); // detached from the response first: disposing must not write to a finished body
        await _json.DisposeAsync().ConfigureAwait(false);
    }
}
