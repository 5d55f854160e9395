using System.Text.Json.Serialization;

namespace GenAI.Server.Api;

/// <summary>OpenAI's error body: <c>{"error": {"message", "type", "param", "code"}}</c>, the one error shape of the API.</summary>
public sealed record ErrorResponse(ErrorDetail Error);

/// <summary>The error object.</summary>
public sealed record ErrorDetail(
    string Message,
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code);

/// <summary>An API failure with its HTTP status and OpenAI error fields.</summary>
public sealed class ApiException(int status, string message, string type, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    public ErrorResponse Body => new(new ErrorDetail(Message, Type, Param, Code));

    public static ApiException Invalid(string message, string? param) => new(400, message, "invalid_request_error", param);
    public static ApiException NotFound(string message, string? param = null, string code = "model_not_found") => new(404, message, "invalid_request_error", param, code);
    public static ApiException Unauthorized(string message) => new(401, message, "invalid_request_error", null, "invalid_api_key");
    public static ApiException TooLarge(string message) => new(413, message, "invalid_request_error", null, "request_too_large");
    public static ApiException Busy(string message) => new(429, message, "rate_limit_exceeded", null, "server_busy");
    public static ApiException NotReady(string message) => new(503, message, "server_error", null, "model_not_ready");
}
