using System.Net;
using GenAI.Server.Hosting;

namespace GenAI.Server.Tests.Playground;

/// <summary>The PathBase setting: the server behind a proxy that keeps a path prefix, and a bad prefix refused at start-up.</summary>
public sealed class PathBaseTests
{
    [Fact]
    public void PathBaseFlagMapsToTheSetting()
    {
        Assert.Equal(["--GenAI:PathBase=/genai"], CommandLine.Normalize(["--path-base", "/genai"]));
    }

    [Theory]
    [InlineData("genai")]
    [InlineData("/genai/")]
    [InlineData("/a b")]
    public void AMalformedPathBaseStopsTheServerAtStartUpNamingTheSetting(string pathBase)
    {
        using var factory = ServerFactory.With(new() { ["GenAI:PathBase"] = pathBase });
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("PathBase", error.ToString());
    }

    [Fact]
    public async Task ThePageAndTheApiAnswerUnderThePrefixAndWithoutIt()
    {
        using var factory = ServerFactory.With(new() { ["GenAI:PathBase"] = "/proxy/genai" });
        using var client = await factory.ReadyClientAsync();
        foreach (string path in new[] { "/proxy/genai/", "/" })
        {
            using var page = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("<title>GenAI playground</title>", await page.Content.ReadAsStringAsync());
        }
        foreach (string path in new[] { "/proxy/genai/v1/models", "/v1/models", "/proxy/genai/health/ready", "/proxy/genai/metrics" })
        {
            using var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
        }
        using var script = await client.GetAsync("/proxy/genai/app.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", script.Headers.CacheControl?.ToString());
    }
}
