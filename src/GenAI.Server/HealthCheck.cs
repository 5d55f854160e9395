namespace GenAI.Server;

/// <summary>Probes <c>/health/ready</c> of a running server and reports through the exit code.</summary>
public static class HealthCheck
{
    public static async Task<int> RunAsync(string? url)
    {
        string target = url ?? $"http://127.0.0.1:{Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS")?.Split(';')[0] ?? "8080"}/health/ready";
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            using var response = await client.GetAsync(target);
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return 1;
        }
    }
}
