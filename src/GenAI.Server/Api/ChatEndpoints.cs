using System.Text.Json;
using GenAI.Core.Tokenization;
using GenAI.Server.Hosting;
using GenAI.Server.Observability;
using Microsoft.Extensions.Options;
using Serilog;

namespace GenAI.Server.Api;

/// <summary>POST /v1/chat/completions.</summary>
public static class ChatEndpoints
{
    public static RouteGroupBuilder MapChat(this RouteGroupBuilder v1)
    {
        v1.MapPost("/chat/completions", Chat)
            .WithName("CreateChatCompletion")
            .WithSummary("Answer a conversation (OpenAI-compatible)")
            .WithDescription("The prompt is built by the model's chat_template (tokenizer_config.json, Hugging Face's Jinja) or, " +
                             "for a model without one, GenAI's plain template (System:/User:/Assistant: lines ending with 'Assistant:'; " +
                             "generation also stops at a new 'User:' line). max_tokens or max_completion_tokens; by default the answer may run " +
                             "to the end of the context. response_format json_object / json_schema constrains the answer to a JSON value " +
                             "(constrained decoding: it always parses and validates unless max_tokens cuts it short, finish_reason \"length\"). " +
                             "tools + tool_choice (none, auto, required, or {\"type\": \"function\", \"function\": {\"name\"}}) + parallel_tool_calls: " +
                             "calls come back as message.tool_calls (finish_reason \"tool_calls\"; streamed as delta.tool_calls with index, id and name " +
                             "first, then argument fragments), written in the model family's own syntax (Qwen/Hermes, Llama 3 JSON, Mistral, Phi-4-mini) " +
                             "and constrained so the name is one of the tools and the arguments validate against its parameters. A reasoning model's " +
                             "think block goes to message.reasoning_content (delta.reasoning_content), counted in usage.completion_tokens_details.reasoning_tokens.")
            .Accepts<ChatCompletionRequest>("application/json")
            .Produces<ChatCompletionResponse>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<ErrorResponse>(StatusCodes.Status429TooManyRequests);
        return v1;
    }

    private static async Task Chat(HttpContext http, ModelHost host, ServerMetrics metrics, IOptions<ServerOptions> options, IAssistantOutputParsers parsers,
        IDiagnosticContext log)
    {
        var request = await JsonBody.ReadAsync<ChatCompletionRequest>(http.Request, options.Value.MaxBodyBytes, http.RequestAborted);
        var tools = ChatToolRequest.Parse(request.Tools, request.ToolChoice, request.ParallelToolCalls);
        var model = await ModelResolver.ResolveAsync(http, host, request.Model);
        var o = options.Value;
        var prompt = ChatPrompts.Encode(model, request, tools, http.RequestAborted);
        var syntax = ModelOutputSyntax.For(model);
        var parserOptions = tools.ToOptions(syntax.ThinkingAt(prompt));
        // A JSON response_format makes the answer that JSON (ModelOutputSyntax.ApplyTo): even a {"name": ...} is not a call.
        if (request.ResponseFormat is { Type: not (null or "text") }) parserOptions = parserOptions with { ToolChoice = "none" };
        int n = request.N ?? 1;
        int? maxTokens = request.MaxCompletionTokens ?? request.MaxTokens;
        int? logprobs = request.Logprobs == true ? request.TopLogprobs ?? 0 : null;
        if (request.TopLogprobs is not null && request.Logprobs != true) throw ApiException.Invalid("top_logprobs needs logprobs: true", "top_logprobs");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(o.RequestTimeoutSeconds));
        GenerationRun run;
        try
        {
            run = GenerationRun.Start(model, metrics, [prompt],
                promptTokens => syntax.ApplyTo(SamplingMapper.ToParameters(request, model, o, promptTokens, maxTokens,
                    Math.Max(1, model.ContextLength - promptTokens), model.ChatTemplate.Stops, logprobs), tools, prompt),
                n, log, timeout.Token);
        }
        catch (ApiException e) when (e.Param == "max_tokens" && request.MaxCompletionTokens is not null)
        {
            throw ApiException.Invalid(e.Message.Replace("max_tokens", "max_completion_tokens"), "max_completion_tokens");
        }
        catch (ApiException e) when (e.Param == "prompt")
        {
            throw ApiException.Invalid(e.Message.Replace("the prompt", "the rendered conversation"), "messages"); // a chat request's prompt is its messages
        }
        await using var _ = run;

        string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var choices = Enumerable.Range(0, n).Select(_ => new ChoiceBuilder(model.Tokenizer, "")).ToList();
        var messages = Enumerable.Range(0, n).Select(_ => new AssistantMessageBuilder(parsers.Create(model, parserOptions))).ToList();

        if (request.Stream == true)
        {
            var opening = Enumerable.Range(0, n).Select(c => (object)Chunk(id, created, model, new ChatChoice(c, null, new ChatMessageOut("assistant", ""), null, null)));
            await GenerationStreaming.WriteAsync(http, o, run, opening.ToList(), item =>
                {
                    var (choice, e) = item;
                    choices[choice].Add(e, false);
                    var delta = messages[choice].Add(e);
                    var chunkLogprobs = logprobs is not null && e.LogProb is { } lp ? new ChatLogprobs([choices[choice].ChatEntry(lp)]) : null;
                    if (delta is null && e.Finish is null && chunkLogprobs is null) return null;
                    return Chunk(id, created, model, new ChatChoice(choice, null, delta ?? new ChatMessageOut(null, null), chunkLogprobs,
                        e.Finish.ToApi(messages[choice].CalledTools)));
                },
                request.StreamOptions?.IncludeUsage == true
                    ? usage => new ChatCompletionResponse(id, "chat.completion.chunk", created, model.Id, model.Revision, [], WithReasoning(usage, messages))
                    : null);
        }
        else
        {
            await foreach (var (choice, e) in run.ReadAllAsync())
            {
                choices[choice].Add(e, false);
                messages[choice].Add(e);
            }
            var body = new ChatCompletionResponse(id, "chat.completion", created, model.Id, model.Revision,
                choices.Select((c, i) => new ChatChoice(i, messages[i].Message(), null,
                    logprobs is null ? null : c.ChatLogprobs, c.Finish.ToApi(messages[i].CalledTools))).ToList(),
                WithReasoning(run.Usage, messages));
            await Results.Json(body, JsonBody.Options).ExecuteAsync(http);
        }
        run.Record();
    }

    private static Usage WithReasoning(Usage usage, List<AssistantMessageBuilder> messages) =>
        usage with { CompletionTokensDetails = new CompletionTokensDetails(messages.Sum(m => m.ReasoningTokens)) };

    private static ChatCompletionResponse Chunk(string id, long created, ServedModel model, ChatChoice choice) =>
        new(id, "chat.completion.chunk", created, model.Id, model.Revision, [choice], null);
}
