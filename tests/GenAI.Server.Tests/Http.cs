using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace GenAI.Server.Tests;

internal static class Http
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<(int Status, JsonElement Body)> PostAsync(HttpClient client, string path, string json)
    {
        using var response = await client.PostAsync(path, Json(json));
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<(int Status, JsonElement Body)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>Posts a streaming request and returns the raw event-stream text and the response headers.</summary>
    public static async Task<(HttpResponseMessage Response, string Body)> StreamAsync(HttpClient client, string path, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(json) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return (response, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Splits an event stream into its data payloads, checking the framing on the way.</summary>
    public static List<string> DataEvents(string body)
    {
        var events = new List<string>();
        foreach (string block in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            if (block.StartsWith(':')) continue; // keep-alive comment
            Assert.StartsWith("data: ", block);
            Assert.DoesNotContain('\n', block); // one line per event
            events.Add(block["data: ".Length..]);
        }
        return events;
    }

    public static void AssertError(int expectedStatus, (int Status, JsonElement Body) response, string? param = null)
    {
        Assert.Equal(expectedStatus, response.Status);
        var error = response.Body.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("code", out _));
        if (param is not null) Assert.Equal(param, error.GetProperty("param").GetString());
    }
}
