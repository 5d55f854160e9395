using System.Diagnostics;
using Microsoft.Playwright;

namespace GenAI.Server.Tests.Playground;

/// <summary>
/// One real server process for the playground's browser tests, behind a path prefix (<c>--path-base /genai</c>) and
/// with an API key, serving the GPT-2 fixture, a Qwen3 fixture with room for long outputs (to stop mid-stream) and the shipped
/// tiny-shakespeare model (trained, so its token probabilities mean something in the README's screenshot);
/// and one headless Chromium. Both are shared by the tests of a class and stopped after them.
/// </summary>
public sealed class PlaygroundServer : IAsyncLifetime
{
    public const string ApiKey = "playground-key";
    public const string PathBase = "/genai";
    public const string LongModel = "qwen3-tiny-ctx2048";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "genai-playground-" + Guid.NewGuid().ToString("N"));
    private IPlaywright? _playwright;

    public ServerProcess Server { get; private set; } = null!;

    public IBrowser? Browser { get; private set; }

    /// <summary>The page's address: the prefix with its slash, as a proxy would publish it.</summary>
    public string PageUrl => new Uri(Server.BaseAddress, PathBase + "/").ToString();

    public string Origin => Server.BaseAddress.GetLeftPart(UriPartial.Authority);

    public async Task InitializeAsync()
    {
        Server = await ServerProcess.StartAsync(Path.Combine(AppContext.BaseDirectory, "GenAI.Server.dll"),
        [
            "--model", TestPaths.Gpt2Tiny, "--model", TestPaths.DecoderModelWithContext("qwen3-tiny", 2048),
            "--model", Path.Combine(TestPaths.RepoRoot, "models", "tiny-shakespeare"),
            "--models-root", Path.Combine(_root, "models"), "--data-root", Path.Combine(_root, "data"),
            "--api-key", ApiKey, "--path-base", PathBase,
        ]);
        if (Chromium.ExecutablePath is null) return; // the tests skip (or, where a browser is required, fail) on their own
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium.ExecutablePath, Headless = true });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        await Server.DisposeAsync();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    /// <summary>Where failure screenshots and the README's screenshot go: the test output folder.</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "playground-screenshots");

    /// <summary>
    /// Runs <paramref name="test"/> on a fresh page (its own storage) that records every request it makes; on failure
    /// saves a screenshot and the server's output with the error. <paramref name="withKey"/> puts the API key in the
    /// page's storage first, as a user who set it before would have it.
    /// </summary>
    public async Task OnPageAsync(string name, bool withKey, Func<IPage, List<string>, Task> test)
    {
        Assert.True(Browser is not null, Chromium.SkipReason);
        await using var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 860 } });
        context.SetDefaultTimeout(30_000);
        if (withKey) await context.AddInitScriptAsync($"localStorage.setItem('genai.apiKey', '{ApiKey}');");
        var page = await context.NewPageAsync();
        var requests = new List<string>();
        var errors = new List<string>();
        page.Request += (_, r) => { lock (requests) requests.Add(r.Url); };
        page.PageError += (_, e) => { lock (errors) errors.Add(e); };
        var time = Stopwatch.StartNew();
        try
        {
            await test(page, requests);
            Assert.Empty(errors);
            // No CDN, no font, no request anywhere but the server the page came from.
            lock (requests) Assert.All(requests, url => Assert.StartsWith(Origin + "/", url));
        }
        catch (Exception e)
        {
            Directory.CreateDirectory(ScreenshotFolder);
            string shot = Path.Combine(ScreenshotFolder, $"failed-{name}.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
            throw new Xunit.Sdk.XunitException($"{name} failed after {time.Elapsed.TotalSeconds:F1} s (screenshot: {shot}; page errors: {string.Join(" | ", errors)}):\n{e}\n--- server output ---\n{Server.Output}");
        }
    }
}
