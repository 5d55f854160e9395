using GenAI.Server.Hosting;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace GenAI.Server.Tests;

/// <summary>The server in-process on the fixture model, with optional extra settings (GenAI:* keys).</summary>
public class ServerFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public ServerFactory() => _settings = [];

    /// <summary>A server with extra settings.</summary>
    public static ServerFactory With(Dictionary<string, string?> settings)
    {
        var factory = new ServerFactory();
        foreach (var (key, value) in settings) factory._settings[key] = value;
        return factory;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("GenAI:Models:0", TestPaths.Gpt2Tiny);
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
    }

    /// <summary>A client once the models are loaded.</summary>
    public async Task<HttpClient> ReadyClientAsync()
    {
        var client = CreateClient();
        await Services.GetRequiredService<ModelHost>().WaitUntilLoadedAsync();
        return client;
    }
}
