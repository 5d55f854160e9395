using GenAI.Server.Hosting;

namespace GenAI.Server.Api;

/// <summary>
/// A response streamed as OpenAI streams one: <c>event: {type}</c> + <c>data: {json}</c> per event, each with
/// <c>type</c> and a <c>sequence_number</c> counting from 0 — <c>response.created</c>, <c>response.in_progress</c>, the
/// output's item, content-part, text/arguments delta and done events (<see cref="ResponseOutputBuilder"/>), then one of
/// <c>response.completed</c>, <c>response.incomplete</c> or <c>response.failed</c>, and no <c>[DONE]</c>. Keep-alive
/// comments fill silences; a client that leaves cancels the generation (nothing is stored).
/// </summary>
public static class ResponseStreaming
{
    /// <summary>
    /// Streams <paramref name="run"/>. <paramref name="complete"/> makes the finished response (once the builder has
    /// ended), <paramref name="keep"/> stores it, before the last event is sent; a failure after the stream began ends
    /// it with <c>response.failed</c> carrying the error.
    /// </summary>
    public static async Task WriteAsync(HttpContext http, ServerOptions options, GenerationRun run, ResponseObject started,
        ResponseOutputBuilder builder, Func<ResponseObject> complete, Action<ResponseObject> keep)
    {
        var cancellation = http.RequestAborted;
        await using var sse = await ServerSentEvents.StartAsync(http.Response, TimeSpan.FromSeconds(options.KeepAliveSeconds), cancellation);
        int sequence = 0;
        async Task SendAsync(IEnumerable<ResponseStreamEvent> events, bool flush = true)
        {
            foreach (var e in events)
            {
                e.SequenceNumber = sequence++;
                await sse.WriteEventAsync(e.Type, e, flush: false, cancellation);
            }
            if (flush) await sse.FlushAsync(cancellation);
        }

        await SendAsync([new ResponseLifecycleEvent("response.created", started), new ResponseLifecycleEvent("response.in_progress", started)], flush: false);
        ResponseObject final;
        try
        {
            // As chat's stream (GenerationStreaming): events are flushed when the next engine event is not ready yet, one
            // write to the socket per engine step, none while the engine thread is still producing.
            await using var items = run.ReadAllAsync().GetAsyncEnumerator();
            while (true)
            {
                var next = items.MoveNextAsync();
                if (!next.IsCompleted) await sse.FlushAsync(cancellation);
                if (!await next) break;
                builder.Push(items.Current.Event);
                await SendAsync(builder.TakeEvents(), flush: false);
            }
            builder.End();
            await SendAsync(builder.TakeEvents());
            final = complete();
            keep(final);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            string message = e is OperationCanceledException ? "the request timed out" : e.Message;
            final = started with { Status = ResponseStatus.Failed, Error = new ResponseError("server_error", message), Output = [.. builder.Output] };
        }
        string type = final.Status switch
        {
            ResponseStatus.Completed => "response.completed",
            ResponseStatus.Incomplete => "response.incomplete",
            _ => "response.failed",
        };
        await SendAsync([new ResponseLifecycleEvent(type, final)]);
    }
}
