using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace GenAI.Server.Api;

/// <summary>Reads a JSON request body, turning every way it can be wrong into the API's 4xx error.</summary>
public static class JsonBody
{
    public static readonly JsonSerializerOptions Options = Create();

    public static JsonSerializerOptions Create() => new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
        PropertyNameCaseInsensitive = false,
    };

    public static async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken cancellation) where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, Options, cancellation).ConfigureAwait(false);
            return value ?? throw ApiException.Invalid("the request body must be a JSON object", null);
        }
        catch (JsonException e)
        {
            string? field = FieldOf(e.Path);
            string where = field is null ? "" : $" at '{field}'";
            string problem = e.Message.Contains("could not be converted", StringComparison.Ordinal)
                ? $"'{field}' has the wrong type or an out-of-range value"
                : $"invalid JSON{where}: {FirstSentence(e.Message)}";
            throw ApiException.Invalid(problem, field);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            long? limit = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            throw ApiException.TooLarge($"the request body exceeds the server's limit of {limit} bytes");
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw ApiException.Invalid("the request body is not valid UTF-8", null);
        }
    }

    /// <summary>"$.messages[0].content" → "messages[0].content"; "$" → null.</summary>
    private static string? FieldOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
