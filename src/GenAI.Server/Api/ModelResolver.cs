using GenAI.Core.Tokenization;
using GenAI.Server.Hosting;

namespace GenAI.Server.Api;

/// <summary>Finds the model a request names, and encodes its text, with the API's errors.</summary>
public static class ModelResolver
{
    /// <summary>
    /// The newest revision of the model <paramref name="id"/> names, held for the rest of the request (the lease ends
    /// with the response), so the request finishes on that revision even if a newer one is swapped in meanwhile.
    /// </summary>
    public static async Task<ServedModel> ResolveAsync(HttpContext http, ModelHost host, string? id)
    {
        var lease = await host.AcquireAsync(id, http.RequestAborted);
        if (lease is not null)
        {
            http.Response.RegisterForDispose(lease);
            return lease.Model;
        }
        if (host.IsLoading) throw ApiException.NotReady("models are still loading; retry shortly");
        if (!string.IsNullOrEmpty(id) && host.LoadErrors.TryGetValue(id, out string? reason))
        {
            throw ApiException.NotReady($"model '{id}' failed to load: {reason}");
        }
        if (string.IsNullOrEmpty(id)) throw ApiException.NotReady("no model is loaded");
        throw ApiException.NotFound($"the model '{id}' does not exist (GET /v1/models lists the served models)", "model");
    }

    /// <summary>
    /// A raw prompt as vLLM encodes one: special tokens written in it are matched, and with
    /// <paramref name="addSpecialTokens"/> the tokenizer's post-processor adds its BOS (Llama, Mistral). Encoding
    /// stops when <paramref name="cancellationToken"/> (the request's) fires.
    /// </summary>
    public static IReadOnlyList<int> EncodePrompt(ServedModel model, string text, bool addSpecialTokens, string field, CancellationToken cancellationToken)
    {
        try
        {
            return model.Tokenizer.EncodePrompt(text, addSpecialTokens, cancellationToken);
        }
        catch (UnknownTokenException e)
        {
            throw ApiException.Invalid($"{field}: {e.Message}", field);
        }
    }

    /// <summary>Ordinary text: special-token spellings in it stay text.</summary>
    public static IReadOnlyList<int> Encode(ServedModel model, string text, string field, CancellationToken cancellationToken)
    {
        try
        {
            return model.Tokenizer.Encode(text, cancellationToken);
        }
        catch (UnknownTokenException e)
        {
            throw ApiException.Invalid($"{field}: {e.Message}", field);
        }
    }
}
