using System.Text.Json;
using GenAI.Core.Generation;
using GenAI.Server.Hosting;
using GenAI.Server.Observability;
using Microsoft.Extensions.Options;
using Serilog;

namespace GenAI.Server.Api;

/// <summary>POST /v1/completions.</summary>
public static class CompletionsEndpoints
{
    public static RouteGroupBuilder MapCompletions(this RouteGroupBuilder v1)
    {
        v1.MapPost("/completions", Complete)
            .WithName("CreateCompletion")
            .WithSummary("Complete a prompt (OpenAI-compatible)")
            .WithDescription("Greedy (temperature 0), sampling, or beam search (use_beam_search / num_beams) with Hugging Face semantics. " +
                             "stream: true answers text/event-stream chunks ending with data: [DONE]. Log-probs are on the distribution " +
                             "after repetition/presence/frequency penalties and logit_bias, before temperature and top-k/top-p/min-p. " +
                             "response_format (json_object / json_schema) constrains the completion to a JSON value by masking the tokens that " +
                             "cannot continue one, after the penalties and before temperature; log-probs are then those of the masked distribution. " +
                             "It is refused with beam search.")
            .Accepts<CompletionRequest>("application/json")
            .Produces<CompletionResponse>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<ErrorResponse>(StatusCodes.Status429TooManyRequests);
        return v1;
    }

    private static async Task Complete(HttpContext http, ModelHost host, ServerMetrics metrics, IOptions<ServerOptions> options, IDiagnosticContext log)
    {
        var request = await JsonBody.ReadAsync<CompletionRequest>(http.Request, options.Value.MaxBodyBytes, http.RequestAborted);
        var model = await ModelResolver.ResolveAsync(http, host, request.Model);
        var o = options.Value;
        if (!string.IsNullOrEmpty(request.Suffix)) throw ApiException.Invalid("suffix is not supported", "suffix");
        var prompts = Prompts(model, request.Prompt, request.AddSpecialTokens ?? true, http.RequestAborted);
        int n = request.N ?? 1;
        bool echo = request.Echo == true;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(o.RequestTimeoutSeconds));
        await using var run = GenerationRun.Start(model, metrics, prompts,
            promptTokens => SamplingMapper.ToParameters(request, model, o, promptTokens, request.MaxTokens, 16, [], request.Logprobs),
            n, log, timeout.Token);

        var texts = echo ? EchoTexts(model, request.Prompt!.Value, prompts) : [];
        string id = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var choices = Enumerable.Range(0, prompts.Count * n).Select(i => new ChoiceBuilder(model.Tokenizer, echo ? texts[i / n] : "")).ToList();

        if (request.Stream == true)
        {
            var opening = echo ? choices.Select((_, c) => (object)Chunk(id, created, model, new CompletionChoice(texts[c / n], c, null, null))) : [];
            await GenerationStreaming.WriteAsync(http, o, run, opening.ToList(), item =>
                {
                    var (choice, e) = item;
                    var logprobs = choices[choice].Add(e, request.Logprobs is not null);
                    return e.Text.Length == 0 && e.Finish is null && logprobs is null
                        ? null
                        : Chunk(id, created, model, new CompletionChoice(e.Text, choice, logprobs, e.Finish.ToApi()) { Score = e.Score });
                },
                request.StreamOptions?.IncludeUsage == true ? usage => new CompletionResponse(id, "text_completion", created, model.Id, model.Revision, [], usage) : null);
        }
        else
        {
            await foreach (var (choice, e) in run.ReadAllAsync()) choices[choice].Add(e, request.Logprobs is not null);
            var body = new CompletionResponse(id, "text_completion", created, model.Id, model.Revision,
                choices.Select((c, i) => new CompletionChoice(c.Text, i, request.Logprobs is null ? null : c.Logprobs, c.Finish.ToApi()) { Score = c.Score }).ToList(),
                run.Usage);
            await Results.Json(body, JsonBody.Options).ExecuteAsync(http);
        }
        run.Record();
    }

    private static CompletionResponse Chunk(string id, long created, ServedModel model, CompletionChoice choice) =>
        new(id, "text_completion", created, model.Id, model.Revision, [choice], null);

    /// <summary>A string, a list of strings, a list of token ids, or a list of token-id lists.</summary>
    private static List<IReadOnlyList<int>> Prompts(ServedModel model, JsonElement? prompt, bool addSpecialTokens, CancellationToken cancellationToken)
    {
        if (prompt is not { } p || p.ValueKind == JsonValueKind.Null) throw ApiException.Invalid("prompt is required", "prompt");
        if (p.ValueKind == JsonValueKind.String) return [ModelResolver.EncodePrompt(model, p.GetString()!, addSpecialTokens, "prompt", cancellationToken)];
        if (p.ValueKind == JsonValueKind.Array)
        {
            var items = p.EnumerateArray().ToList();
            if (items.Count == 0) throw ApiException.Invalid("prompt must not be an empty list", "prompt");
            if (items.All(i => i.ValueKind == JsonValueKind.String)) return items.Select(i => ModelResolver.EncodePrompt(model, i.GetString()!, addSpecialTokens, "prompt", cancellationToken)).ToList();
            if (items.All(i => i.ValueKind == JsonValueKind.Number)) return [TokenIds(items)];
            if (items.All(i => i.ValueKind == JsonValueKind.Array)) return items.Select(i => TokenIds(i.EnumerateArray().ToList())).ToList();
        }
        throw ApiException.Invalid("prompt must be a string, a list of strings, or token ids", "prompt");
    }

    // Text prompts echo as written (a BOS the tokenizer added is not part of them); token-id prompts as their decoding.
    private static List<string> EchoTexts(ServedModel model, JsonElement prompt, List<IReadOnlyList<int>> ids) =>
        prompt.ValueKind == JsonValueKind.String ? [prompt.GetString()!]
        : prompt.EnumerateArray().All(i => i.ValueKind == JsonValueKind.String) ? prompt.EnumerateArray().Select(i => i.GetString()!).ToList()
        : ids.Select(p => model.Tokenizer.Decode(p, skipSpecialTokens: true)).ToList();

    private static IReadOnlyList<int> TokenIds(List<JsonElement> items) =>
        items.Select(i => i.ValueKind == JsonValueKind.Number && i.TryGetInt32(out int v) ? v : throw ApiException.Invalid("prompt token ids must be integers", "prompt")).ToList();
}
