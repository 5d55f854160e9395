using GenAI.Core.Tokenization;
using GenAI.Server.Hosting;

namespace GenAI.Server.Api;

/// <summary>Finds the model a request names, and encodes its text, with the API's errors.</summary>
public static class ModelResolver
{
    public static ServedModel Resolve(ModelHost host, string? id)
    {
        if (host.IsLoading && host.Find(id) is null) throw ApiException.NotReady("models are still loading; retry shortly");
        var model = host.Find(id);
        if (model is not null) return model;
        if (!string.IsNullOrEmpty(id) && host.LoadErrors.TryGetValue(id, out string? reason))
        {
            throw ApiException.NotReady($"model '{id}' failed to load: {reason}");
        }
        if (string.IsNullOrEmpty(id)) throw ApiException.NotReady("no model is loaded");
        throw ApiException.NotFound($"the model '{id}' does not exist (GET /v1/models lists the served models)", "model");
    }

    public static IReadOnlyList<int> Encode(ServedModel model, string text, string field)
    {
        try
        {
            return model.Tokenizer.Encode(text);
        }
        catch (UnknownTokenException e)
        {
            throw ApiException.Invalid($"{field}: {e.Message}", field);
        }
    }
}
