using GenAI.Server.Hosting;

namespace GenAI.Server.Api;

/// <summary>GET /v1/models and /v1/models/{id}.</summary>
public static class ModelsEndpoints
{
    public static RouteGroupBuilder MapModels(this RouteGroupBuilder v1)
    {
        v1.MapGet("/models", (ModelHost host) => Results.Json(new ModelList("list", host.Models.Select(Card).ToList()), JsonBody.Options))
            .WithName("ListModels").WithSummary("List the served models with revision, architecture, size, context, dtype and device")
            .Produces<ModelList>();
        v1.MapGet("/models/{id}", (string id, ModelHost host) =>
                Results.Json(Card(host.Find(id) ?? throw ApiException.NotFound($"the model '{id}' does not exist", "id")), JsonBody.Options))
            .WithName("RetrieveModel").WithSummary("One served model")
            .Produces<ModelCard>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        return v1;
    }

    private static ModelCard Card(ServedModel m) => new(m.Id, "model", m.Created, "genai", m.Revision, m.Model.Config.ModelType,
        m.Model.ParameterCount, m.ContextLength, m.Model.DType.ToString().ToLowerInvariant(), m.Device, "ready");
}

/// <summary>POST /tokenize and /detokenize (as vLLM).</summary>
public static class TokenizerEndpoints
{
    public static WebApplication MapTokenizer(this WebApplication app)
    {
        app.MapPost("/tokenize", async (HttpContext http, ModelHost host, Microsoft.Extensions.Options.IOptions<ServerOptions> options) =>
            {
                var request = await JsonBody.ReadAsync<TokenizeRequest>(http.Request, options.Value.MaxBodyBytes, http.RequestAborted);
                var model = ModelResolver.Resolve(host, request.Model);
                var tokens = ModelResolver.Encode(model, request.Prompt ?? throw ApiException.Invalid("prompt is required", "prompt"), "prompt");
                return Results.Json(new TokenizeResponse(tokens.ToList(), tokens.Count, model.ContextLength), JsonBody.Options);
            })
            .WithName("Tokenize").WithSummary("Token ids of a text").WithTags("Tokenizer")
            .Accepts<TokenizeRequest>("application/json").Produces<TokenizeResponse>().Produces<ErrorResponse>(StatusCodes.Status400BadRequest);
        app.MapPost("/detokenize", async (HttpContext http, ModelHost host, Microsoft.Extensions.Options.IOptions<ServerOptions> options) =>
            {
                var request = await JsonBody.ReadAsync<DetokenizeRequest>(http.Request, options.Value.MaxBodyBytes, http.RequestAborted);
                var model = ModelResolver.Resolve(host, request.Model);
                var tokens = request.Tokens ?? throw ApiException.Invalid("tokens is required", "tokens");
                int vocab = model.Tokenizer.VocabSize;
                int bad = tokens.FindIndex(t => t < 0 || t >= vocab);
                if (bad >= 0) throw ApiException.Invalid($"tokens[{bad}] is {tokens[bad]}, outside the vocabulary [0, {vocab})", "tokens");
                return Results.Json(new DetokenizeResponse(model.Tokenizer.Decode(tokens)), JsonBody.Options);
            })
            .WithName("Detokenize").WithSummary("Text of token ids").WithTags("Tokenizer")
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
                string reason = host.IsLoading ? "models are still loading" : "no model is loaded: " + string.Join("; ", host.LoadErrors.Select(e => $"{e.Key}: {e.Value}"));
                throw ApiException.NotReady(reason);
            })
            .WithTags("Health").WithSummary("A model is loaded and serving").Produces(200).Produces<ErrorResponse>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }
}
