using GenAI.Server.Hosting;

namespace GenAI.Server.Api;

/// <summary>
/// The streamed form of a generation response, shared by completions and chat: opening chunks, one chunk per
/// event that has something to say, the usage chunk when asked, a final error event if generation fails after the
/// stream began, then <c>data: [DONE]</c>. One stream's events reach this loop on the thread that the engine's write
/// woke, with no further hop (see <see cref="GenerationRun.ReadAllAsync"/>).
/// </summary>
public static class GenerationStreaming
{
    public static async Task WriteAsync(HttpContext http, ServerOptions options, GenerationRun run,
        IEnumerable<object> opening, Func<ChoiceEvent, object?> chunkFor, Func<Usage, object>? usageChunk)
    {
        var cancellation = http.RequestAborted;
        await using var sse = await ServerSentEvents.StartAsync(http.Response, TimeSpan.FromSeconds(options.KeepAliveSeconds), cancellation);
        try
        {
            foreach (var chunk in opening) await sse.WriteAsync(chunk, flush: false, cancellation);
            // Events are flushed when the next one is not ready yet: one write to the socket per engine step, however
            // many events the step produced (n choices, beams), and none while the engine thread is still filling them.
            await using var items = run.ReadAllAsync().GetAsyncEnumerator();
            while (true)
            {
                var next = items.MoveNextAsync();
                if (!next.IsCompleted) await sse.FlushAsync(cancellation);
                if (!await next) break;
                if (chunkFor(items.Current) is { } chunk) await sse.WriteAsync(chunk, flush: false, cancellation);
            }
            if (usageChunk is not null) await sse.WriteAsync(usageChunk(run.Usage), cancellation);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            await sse.WriteAsync(new ErrorResponse(new ErrorDetail(e is OperationCanceledException ? "the request timed out" : e.Message, "server_error", null, null)), cancellation);
        }
        await sse.DoneAsync(cancellation);
    }
}
