using System.Text.Json;

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

    /// <summary>
    /// Deserializes the body, at most <paramref name="maxBytes"/> long (checked here as well as by Kestrel, so the
    /// limit holds behind any server and for chunked bodies).
    /// </summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request, long maxBytes, CancellationToken cancellation) where T : class
    {
        if (request.ContentLength > maxBytes) throw ApiException.TooLarge($"the request body ({request.ContentLength} bytes) exceeds the server's limit of {maxBytes} bytes");
        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellation).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > maxBytes) throw ApiException.TooLarge($"the request body exceeds the server's limit of {maxBytes} bytes");
                buffer.Write(chunk, 0, read);
            }
            if (buffer.Length == 0) throw ApiException.Invalid("the request body is empty; send a JSON object", null);
            // JsonElement fields transcode lazily, so invalid UTF-8 inside them would surface later as a 500: check it all now.
            if (!System.Text.Unicode.Utf8.IsValid(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)))
            {
                throw ApiException.Invalid("the request body is not valid UTF-8", null);
            }
            buffer.Position = 0;
            var value = await JsonSerializer.DeserializeAsync<T>(buffer, Options, cancellation).ConfigureAwait(false);
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
            throw ApiException.TooLarge($"the request body exceeds the server's limit of {maxBytes} bytes");
        }
        catch (Exception e) when (e is System.Text.DecoderFallbackException or ArgumentException or InvalidOperationException)
        {
            // System.Text.Json reports invalid UTF-8 with these.
            throw ApiException.Invalid($"the request body is not valid UTF-8 JSON: {e.Message}", null);
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
