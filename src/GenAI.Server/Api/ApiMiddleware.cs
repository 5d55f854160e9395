using System.Security.Cryptography;
using System.Text;
using GenAI.Server.Hosting;
using GenAI.Server.Observability;
using Microsoft.Extensions.Options;

namespace GenAI.Server.Api;

/// <summary>
/// Turns every failure into the API's one error body with its status (never an HTML page or a bare 500),
/// counts requests, and checks API keys on <c>/v1</c> when keys are configured.
/// </summary>
public sealed class ApiMiddleware(RequestDelegate next, IOptions<ServerOptions> options, ServerMetrics metrics, ILogger<ApiMiddleware> logger, Serilog.IDiagnosticContext diagnostics)
{
    private readonly byte[][] _keys = options.Value.ApiKeys.Where(k => k.Length > 0).Select(Encoding.UTF8.GetBytes).ToArray();

    public async Task InvokeAsync(HttpContext http)
    {
        foreach (string property in LoggedProperties) diagnostics.Set(property, "-");
        try
        {
            if (_keys.Length > 0 && http.Request.Path.StartsWithSegments("/v1")) Authorize(http);
            await next(http);
        }
        catch (ApiException e)
        {
            await WriteAsync(http, e);
        }
        catch (BadHttpRequestException e)
        {
            await WriteAsync(http, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? ApiException.TooLarge("the request body exceeds the server's limit")
                : new ApiException(e.StatusCode, e.Message, "invalid_request_error"));
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client left; nothing to answer.
        }
        catch (OperationCanceledException)
        {
            await WriteAsync(http, new ApiException(StatusCodes.Status408RequestTimeout, "the request timed out", "timeout_error"));
        }
        catch (Exception e)
        {
            logger.LogError(e, "Unhandled error in {Path}", http.Request.Path);
            await WriteAsync(http, new ApiException(StatusCodes.Status500InternalServerError, "internal server error: " + e.Message, "server_error"));
        }
        finally
        {
            // The route template, not the path: ids (models, files, jobs) must not each become a metric series.
            string endpoint = http.GetEndpoint() is RouteEndpoint route ? "/" + route.RoutePattern.RawText?.TrimStart('/') : "unmatched";
            metrics.Requests.WithLabels(endpoint, http.Response.StatusCode.ToString()).Inc();
        }
    }

    /// <summary>Properties of the request log line that generation endpoints fill in.</summary>
    private static readonly string[] LoggedProperties = ["Model", "Revision", "PromptTokens", "CompletionTokens", "TimeToFirstTokenMs"];

    private void Authorize(HttpContext http)
    {
        string header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiException.Unauthorized("missing API key: send Authorization: Bearer <key>");
        }
        var given = Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        if (!_keys.Any(k => CryptographicOperations.FixedTimeEquals(k, given))) throw ApiException.Unauthorized("invalid API key");
    }

    public static async Task WriteAsync(HttpContext http, ApiException e)
    {
        if (http.Response.HasStarted) return;
        http.Response.Clear();
        http.Response.StatusCode = e.Status;
        if (e.Status == StatusCodes.Status429TooManyRequests) http.Response.Headers.RetryAfter = "1";
        if (e.Status == StatusCodes.Status401Unauthorized) http.Response.Headers.WWWAuthenticate = "Bearer";
        await http.Response.WriteAsJsonAsync(e.Body, JsonBody.Options);
    }
}
