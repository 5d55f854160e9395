using GenAI.Server.Hosting;

namespace GenAI.Server.Api;

/// <summary>
/// The streamed form of a generation response, shared by completions and chat: opening chunks, one chunk per
/// event that has something to say, the usage chunk when asked, a final error event if generation fails after the
/// stream began, then <c>data: [DONE]</c>.
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
            foreach (var chunk in opening) await sse.WriteAsync(chunk, cancellation);
            await foreach (var item in run.ReadAllAsync())
            {
                if (chunkFor(item) is { } chunk) await sse.WriteAsync(chunk, cancellation);
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
