using GenAI.Core.Models.Quantization;
using GenAI.Server.Hosting;

namespace GenAI.Server.Api;

/// <summary>GET /v1/models and /v1/models/{id}.</summary>
public static class ModelsEndpoints
{
    public static RouteGroupBuilder MapModels(this RouteGroupBuilder v1)
    {
        v1.MapGet("/models", (ModelHost host) => Results.Json(new ModelList("list", host.Slots.Select(Card).ToList()), JsonBody.Options))
            .WithName("ListModels").WithSummary("List the models with revision, architecture, size, context, dtype, device, status and rejected revisions")
            .Produces<ModelList>();
        v1.MapGet("/models/{id}", (string id, ModelHost host) =>
                Results.Json(Card(host.Slots.FirstOrDefault(s => s.Id == id) ?? throw ApiException.NotFound($"the model '{id}' does not exist", "id")), JsonBody.Options))
            .WithName("RetrieveModel").WithSummary("One model")
            .Produces<ModelCard>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        return v1;
    }

    private static ModelCard Card(ModelSlot slot)
    {
        var rejected = slot.Rejected.IsEmpty ? null
            : slot.Rejected.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => new RejectedRevision(r.Key, r.Value)).ToList();
        if (slot.Current is not { } m)
        {
            return new ModelCard(slot.Id, "model", 0, "genai", null, null, null, null, null, null, null, null, slot.Error is null ? "loading" : "failed", slot.Error, rejected);
        }
        return new ModelCard(m.Id, "model", m.Created, "genai", m.Revision, m.Model.Config.ArchitectureName, m.Model.Config.ModelType,
            m.Model.ParameterCount, m.ContextLength, m.ContextLength, m.Model.DType.ToString().ToLowerInvariant(), m.Device, "ready", null, rejected,
            m.Model.Quantization == WeightQuantization.Int8 ? "int8" : null);
    }
}

/// <summary>POST /tokenize and /detokenize (as vLLM).</summary>
public static class TokenizerEndpoints
{
    public static WebApplication MapTokenizer(this WebApplication app)
    {
        app.MapPost("/tokenize", async (HttpContext http, ModelHost host, Microsoft.Extensions.Options.IOptions<ServerOptions> options) =>
            {
                var request = await JsonBody.ReadAsync<TokenizeRequest>(http.Request, options.Value.MaxBodyBytes, http.RequestAborted);
                var model = await ModelResolver.ResolveAsync(http, host, request.Model);
                if (request.Messages is not null && request.Prompt is not null) throw ApiException.Invalid("give either prompt or messages, not both", "messages");
                var tokens = request.Messages is not null
                    ? ChatPrompts.Encode(model, request, http.RequestAborted)
                    : ModelResolver.EncodePrompt(model, request.Prompt ?? throw ApiException.Invalid("prompt or messages is required", "prompt"),
                        request.AddSpecialTokens ?? true, "prompt", http.RequestAborted);
                return Results.Json(new TokenizeResponse(tokens.ToList(), tokens.Count, model.ContextLength), JsonBody.Options);
            })
            .WithName("Tokenize").WithTags("Tokenizer")
            .WithSummary("Token ids of a prompt (with add_special_tokens) or of a chat conversation rendered as the chat endpoint renders it")
            .Accepts<TokenizeRequest>("application/json").Produces<TokenizeResponse>().Produces<ErrorResponse>(StatusCodes.Status400BadRequest);
        app.MapPost("/detokenize", async (HttpContext http, ModelHost host, Microsoft.Extensions.Options.IOptions<ServerOptions> options) =>
            {
                var request = await JsonBody.ReadAsync<DetokenizeRequest>(http.Request, options.Value.MaxBodyBytes, http.RequestAborted);
                var model = await ModelResolver.ResolveAsync(http, host, request.Model);
                var tokens = request.Tokens ?? throw ApiException.Invalid("tokens is required", "tokens");
                int vocab = model.Tokenizer.VocabSize;
                int bad = tokens.FindIndex(t => t < 0 || t >= vocab);
                if (bad >= 0) throw ApiException.Invalid($"tokens[{bad}] is {tokens[bad]}, outside the vocabulary [0, {vocab})", "tokens");
                return Results.Json(new DetokenizeResponse(model.Tokenizer.Decode(tokens, skipSpecialTokens: false)), JsonBody.Options);
            })
            .WithName("Detokenize").WithSummary("Text of token ids, as the tokenizer's own decode writes it (special tokens included)").WithTags("Tokenizer")
            .Accepts<DetokenizeRequest>("application/json").Produces<DetokenizeResponse>().Produces<ErrorResponse>(StatusCodes.Status400BadRequest);
        return app;
    }
}

/// <summary>GET /health (live) and /health/ready (a model is loaded).</summary>
public static class HealthEndpoints
{
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapGet("/health", () => Results.Json(new { status = "ok" })).WithTags("Health").WithSummary("The process is up");
        app.MapGet("/health/ready", (ModelHost host) =>
            {
                if (host.IsReady) return Results.Json(new { status = "ready", models = host.Models.Select(m => m.Id).ToList() });
                throw ApiException.NotReady(host.NotReadyReason);
            })
            .WithTags("Health").WithSummary("A model is loaded and serving").Produces(200).Produces<ErrorResponse>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }
}
