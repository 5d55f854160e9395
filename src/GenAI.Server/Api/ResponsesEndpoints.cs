using GenAI.Core.Generation;
using GenAI.Server.Hosting;
using GenAI.Server.Observability;
using GenAI.Training.Jobs;
using Microsoft.Extensions.Options;
using Serilog;

namespace GenAI.Server.Api;

/// <summary>POST /v1/responses, GET and DELETE /v1/responses/{id}: OpenAI's Responses API over the chat path.</summary>
public static class ResponsesEndpoints
{
    public static RouteGroupBuilder MapResponses(this RouteGroupBuilder v1)
    {
        v1.MapPost("/responses", Create)
            .WithName("CreateResponse")
            .WithSummary("Create a model response (OpenAI's Responses API)")
            .WithDescription("input is a string or a list of items (messages with input_text parts, function_call, function_call_output, " +
                             "reasoning); instructions is a system message for this response only. With store (the default) the response is kept " +
                             "in the job store's database and previous_response_id continues it: the input and output of every response of the chain " +
                             "come before the new input (an unknown or broken chain is a 400, code previous_response_not_found). tools are function " +
                             "tools in the Responses API's flat shape, rendered by the model's chat template; tool_choice auto, none, required or " +
                             "{\"type\": \"function\", \"name\"} (required and a named function are constrained decoding: the output is always a valid " +
                             "call). text.format json_object / json_schema constrains the answer as response_format does on chat. stream: true sends " +
                             "OpenAI's typed events (response.created, response.in_progress, response.output_item.added, response.content_part.added, " +
                             "response.output_text.delta, response.function_call_arguments.delta, response.reasoning_text.delta, the matching .done " +
                             "events, response.completed or response.incomplete), each with a sequence_number.")
            .Accepts<CreateResponseRequest>("application/json")
            .Produces<ResponseObject>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<ErrorResponse>(StatusCodes.Status429TooManyRequests);
        v1.MapGet("/responses/{id}", (string id, IResponseStore store) => Results.Json(ResponseArchive.Find(store, id), JsonBody.Options))
            .WithName("GetResponse")
            .WithSummary("A stored response (store: true)")
            .Produces<ResponseObject>()
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        v1.MapGet("/responses/{id}/input_items", InputItems)
            .WithName("ListResponseInputItems")
            .WithSummary("The items a stored response's request sent (newest first by default: order asc or desc, limit 1..100, after an item id)")
            .Produces<ResponseItemList>()
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        v1.MapDelete("/responses/{id}", (string id, IResponseStore store) =>
                store.Delete(id) ? Results.Json(new ResponseDeleted(id, true), JsonBody.Options) : throw ResponseArchive.NotFound(id))
            .WithName("DeleteResponse")
            .WithSummary("Delete a stored response (responses that continue it can no longer be continued)")
            .Produces<ResponseDeleted>()
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        return v1;
    }

    private static IResult InputItems(string id, IResponseStore store, string? order, int? limit, string? after)
    {
        if (order is not (null or "asc" or "desc")) throw ApiException.Invalid($"order must be asc or desc, not '{order}'", "order");
        if (limit is < 1 or > 100) throw ApiException.Invalid($"limit must be between 1 and 100, not {limit}", "limit");
        IEnumerable<ResponseItem> items = ResponseArchive.InputItems(store, id);
        if (order != "asc") items = items.Reverse();
        var ordered = items.ToList();
        int start = 0;
        if (after is not null)
        {
            int index = ordered.FindIndex(i => i.Id == after);
            if (index < 0) throw ApiException.Invalid($"after: response '{id}' has no input item '{after}'", "after");
            start = index + 1;
        }
        var page = ordered.Skip(start).Take(limit ?? 20).ToList();
        return Results.Json(new ResponseItemList(page, page.FirstOrDefault()?.Id, page.LastOrDefault()?.Id, start + page.Count < ordered.Count), JsonBody.Options);
    }

    private static async Task Create(HttpContext http, ModelHost host, ServerMetrics metrics, IOptions<ServerOptions> serverOptions, IDiagnosticContext log,
        IResponseStore store, IAssistantOutputParsers parsers)
    {
        var o = serverOptions.Value;
        var request = await JsonBody.ReadAsync<CreateResponseRequest>(http.Request, o.MaxBodyBytes, http.RequestAborted);
        var options = ResponseOptions.From(request);
        var input = ResponseInput.Parse(request.Input);
        var history = request.PreviousResponseId is { } previous ? ResponseArchive.Conversation(store, previous) : [];
        var model = await ModelResolver.ResolveAsync(http, host, request.Model);
        var chat = ResponsePrompt.ChatRequest(request, request.Instructions, [.. history, .. input], options);
        var prompt = ResponsePrompt.Encode(model, chat, options.ToolCalls, http.RequestAborted);
        // Calls the model opens itself (tool_choice auto) are written, constrained and parsed in its family's syntax, as on
        // chat completions; forced calls are the whole output's JSON (ResponseForcedToolCalls). A text.format wins over
        // calls (ResponseOptions).
        var syntax = ModelOutputSyntax.For(model);
        var parserOptions = options.ToolCalls.ToOptions(syntax.ThinkingAt(prompt));
        var ownCalls = options.ForcedCalls is null ? options.ToolCalls : null;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(o.RequestTimeoutSeconds));
        SamplingParameters? parameters = null;
        GenerationRun run;
        try
        {
            run = GenerationRun.Start(model, metrics, [prompt], promptTokens =>
                {
                    var p = SamplingMapper.ToParameters(chat, model, o, promptTokens, request.MaxOutputTokens, Math.Max(1, model.ContextLength - promptTokens),
                        model.ChatTemplate.Stops, null) with { Constraint = options.ForcedCalls?.Constraint ?? options.Constraint };
                    return parameters = ownCalls is null ? p : syntax.ApplyTo(p, ownCalls, prompt);
                },
                1, log, timeout.Token);
        }
        catch (ApiException e) when (e.Param == "max_tokens")
        {
            throw ApiException.Invalid(e.Message.Replace("max_tokens", "max_output_tokens"), "max_output_tokens");
        }
        catch (ApiException e) when (e.Param == "prompt")
        {
            throw ApiException.Invalid(e.Message.Replace("the prompt", "the rendered conversation"), "input");
        }
        await using var _ = run;

        var started = new ResponseObject
        {
            Id = ResponseIds.New("resp"),
            CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Instructions = request.Instructions,
            MaxOutputTokens = request.MaxOutputTokens,
            MaxToolCalls = request.MaxToolCalls,
            Model = model.Id,
            ParallelToolCalls = options.ToolCalls.Parallel,
            PreviousResponseId = request.PreviousResponseId,
            Reasoning = options.Reasoning,
            Store = options.Store,
            Temperature = parameters!.Temperature,
            TopP = parameters.TopP,
            Text = options.Text,
            ToolChoice = options.ToolChoice,
            Tools = options.Tools,
            User = request.User,
            Metadata = options.Metadata,
            SystemFingerprint = model.Revision,
        };
        var builder = new ResponseOutputBuilder(options.ForcedCalls?.CreateParser() ?? parsers.Create(model, parserOptions));
        ResponseObject Complete() => started with
        {
            Status = builder.Finish == FinishReason.Length ? ResponseStatus.Incomplete : ResponseStatus.Completed,
            IncompleteDetails = builder.Finish == FinishReason.Length ? new IncompleteDetails("max_output_tokens") : null,
            Output = [.. builder.Output],
            Usage = new ResponseUsage(run.PromptTokens, new InputTokensDetails(0), run.CompletionTokens, new OutputTokensDetails(builder.ReasoningTokens),
                run.PromptTokens + run.CompletionTokens),
            CompletedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        };
        void Keep(ResponseObject response)
        {
            if (options.Store) ResponseArchive.Save(store, response, input);
        }

        if (request.Stream == true)
        {
            await ResponseStreaming.WriteAsync(http, o, run, started, builder, Complete, Keep);
        }
        else
        {
            await foreach (var (_, e) in run.ReadAllAsync()) builder.Push(e);
            builder.End();
            var response = Complete();
            Keep(response);
            await Results.Json(response, JsonBody.Options).ExecuteAsync(http);
        }
        run.Record();
    }
}
