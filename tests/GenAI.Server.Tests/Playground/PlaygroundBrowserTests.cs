using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace GenAI.Server.Tests.Playground;

/// <summary>
/// The playground in a real browser (headless Chromium) against the real server process on the fixtures, reached
/// behind a path prefix and with an API key: chat streams a reply, stop ends a generation, the token view shows
/// probabilities, completions continue in place, and a fine-tuning job started from the page draws its loss chart and
/// puts the new model in the picker.
/// </summary>
public sealed class PlaygroundBrowserTests(PlaygroundServer fixture) : IClassFixture<PlaygroundServer>
{
    private static async Task WaitForModelsAsync(IPage page)
    {
        await page.WaitForSelectorAsync("body[data-ready=true]");
        await UntilAsync(page, "document.querySelectorAll('#model option').length >= 2");
    }

    /// <summary>
    /// Polls a JavaScript condition (Playwright's WaitForFunction compiles its text with eval, which the page's
    /// Content-Security-Policy forbids, as it should; EvaluateAsync goes through the DevTools protocol).
    /// </summary>
    private static async Task UntilAsync(IPage page, string condition, int timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(timeoutSeconds);
        while (!await page.EvaluateAsync<bool>(condition))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"still false after {timeoutSeconds} s: {condition}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task ThePageIsServedAtTheRootAndUnderThePathBase()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = fixture.Server.BaseAddress };
        foreach (string path in new[] { "/", PlaygroundServer.PathBase + "/" })
        {
            using var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("GenAI playground", await response.Content.ReadAsStringAsync());
            Assert.Contains("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
        }
        // The prefix without its slash is redirected to it, so the page's relative URLs resolve under the prefix.
        using (var redirect = await client.GetAsync(PlaygroundServer.PathBase))
        {
            Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
            Assert.EndsWith(PlaygroundServer.PathBase + "/", redirect.Headers.Location!.ToString());
        }
        using (var script = await client.GetAsync(PlaygroundServer.PathBase + "/vendor/marked.esm.js"))
        {
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
            Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        }
        // The API keeps its key under the prefix, and a missing file is the API's JSON 404, not a page.
        using (var unauthorized = await client.GetAsync(PlaygroundServer.PathBase + "/v1/models")) Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        using (var missing = await client.GetAsync(PlaygroundServer.PathBase + "/no-such-file.js"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Contains("\"error\"", await missing.Content.ReadAsStringAsync());
        }
    }

    [BrowserFact]
    public Task ChatStreamsTheReplyShowsTokenProbabilitiesAndKeepsTheConversation() => fixture.OnPageAsync("chat", withKey: false, async (page, requests) =>
    {
        await page.GotoAsync(fixture.PageUrl);
        // Without the key the models cannot be listed, and the page says where the key goes.
        await page.WaitForSelectorAsync("#status[data-kind=error]");
        Assert.Contains("API key", await page.InnerTextAsync("#status"));
        await page.FillAsync("#api-key", PlaygroundServer.ApiKey);
        await page.PressAsync("#api-key", "Tab");
        await WaitForModelsAsync(page);
        // The Qwen3 fixture with a long context: 300 tokens take long enough to see them arrive.
        await page.SelectOptionAsync("#model", PlaygroundServer.LongModel);

        await page.FillAsync("#p-max-tokens", "300");
        await page.FillAsync("#p-seed", "7");
        await page.FillAsync("#p-temperature", "0.8");
        // Record the reply's length each time the page redraws it while it is still generating.
        await page.EvaluateAsync("""
            window.lengthsWhilePending = [];
            new MutationObserver(() => {
              const reply = document.querySelector('li.message.assistant.pending .content');
              if (reply) window.lengthsWhilePending.push(reply.textContent.length);
            }).observe(document.getElementById('messages'), { subtree: true, childList: true, characterData: true });
            """);
        await page.FillAsync("#chat-input", "Tell me a story about **bold** words");
        await page.PressAsync("#chat-input", "Enter");
        await page.WaitForSelectorAsync("li.message.assistant:not(.pending) .meta:has-text('finish:')");
        string reply = await page.InnerTextAsync("li.message.assistant .content");
        Assert.False(string.IsNullOrWhiteSpace(reply));
        var lengths = (await page.EvaluateAsync<int[]>("window.lengthsWhilePending")).Distinct().Where(n => n > 0).ToList();
        Assert.True(lengths.Count >= 2, $"the reply should appear piece by piece while streaming; lengths seen while pending: {string.Join(",", lengths)}");
        Assert.Contains("You", await page.InnerTextAsync("li.message.user .who"));
        Assert.Contains("rev-", await page.InnerTextAsync("li.message.assistant .meta"));

        // The token view: one coloured span per generated token, and the top alternatives with log-probs on hover.
        await page.ClickAsync("li.message.assistant summary:has-text('Token probabilities')");
        var tokens = page.Locator("li.message.assistant .tokens .token");
        int generated = int.Parse(Regex.Match(await page.InnerTextAsync("li.message.assistant .meta"), @"(\d+) tokens").Groups[1].Value);
        Assert.InRange(generated, 1, 300);
        // The view is drawn when it opens: wait for its last token before counting.
        await page.WaitForSelectorAsync($"li.message.assistant .tokens .token >> nth={generated - 1}");
        Assert.Equal(generated, await tokens.CountAsync());
        Assert.Matches(@"^hsl|^rgb", await tokens.Nth(3).EvaluateAsync<string>("t => t.style.backgroundColor"));
        await tokens.Nth(3).HoverAsync();
        await page.WaitForSelectorAsync("#token-tip:not([hidden])");
        Assert.Contains("Top alternatives", await page.InnerTextAsync("#token-tip"));
        Assert.Equal(5, await page.Locator("#token-tip table.alternatives tr").CountAsync());
        Assert.Matches(@"logprob=-\d+\.\d{3}", await page.InnerTextAsync("#token-tip .tip-head"));

        // Regenerate replaces the reply; the conversation survives a reload (browser storage).
        await page.ClickAsync("#chat-regenerate");
        await page.WaitForSelectorAsync("li.message.assistant:not(.pending) .meta:has-text('finish:')");
        Assert.Equal(1, await page.Locator("li.message.assistant").CountAsync());
        string regenerated = await page.InnerTextAsync("li.message.assistant .content");
        await page.ReloadAsync();
        await WaitForModelsAsync(page);
        Assert.Equal("Tell me a story about **bold** words", await page.InnerTextAsync("li.message.user .content"));
        Assert.Equal(regenerated, await page.InnerTextAsync("li.message.assistant .content"));

        // Completions: the text is continued in the same box.
        await page.ClickAsync("#tab-completions");
        await page.FillAsync("#completion-prompt", "To be, or not to be,");
        await page.FillAsync("#p-max-tokens", "12");
        await page.PressAsync("#completion-prompt", "Control+Enter");
        await UntilAsync(page, "document.querySelectorAll('#completion-tokens .token').length === 12 && !document.getElementById('completion-generate').disabled");
        string continued = await page.InputValueAsync("#completion-prompt");
        Assert.StartsWith("To be, or not to be,", continued);
        Assert.True(continued.Length > "To be, or not to be,".Length);
        lock (requests) Assert.Contains(requests, url => url.StartsWith(fixture.Origin + PlaygroundServer.PathBase + "/v1/completions", StringComparison.Ordinal));

        // The README's screenshot: the shipped Shakespeare model continuing a prompt, a token's alternatives shown.
        await page.SelectOptionAsync("#model", "tiny-shakespeare");
        await page.FillAsync("#completion-prompt", "ROMEO:\nBut soft, what light");
        await page.FillAsync("#p-max-tokens", "96");
        await page.FillAsync("#p-seed", "3");
        await page.ClickAsync("#completion-generate");
        await UntilAsync(page, "document.querySelectorAll('#completion-tokens .token').length === 96 && !document.getElementById('completion-generate').disabled");
        await page.Locator("#completion-tokens .token").Nth(20).HoverAsync();
        await page.WaitForSelectorAsync("#token-tip:not([hidden])");
        Directory.CreateDirectory(PlaygroundServer.ScreenshotFolder);
        string screenshot = Path.Combine(PlaygroundServer.ScreenshotFolder, "playground.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot });
        // GENAI_UPDATE_SCREENSHOT=1 refreshes the image the README shows.
        if (Environment.GetEnvironmentVariable("GENAI_UPDATE_SCREENSHOT") == "1")
        {
            File.Copy(screenshot, Path.Combine(TestPaths.RepoRoot, "docs", "playground.png"), overwrite: true);
        }

        // response_format from the parameters panel: the reply is a value of the JSON schema (constrained decoding).
        await page.ClickAsync("#tab-chat");
        await page.ClickAsync("#chat-clear");
        await page.SelectOptionAsync("#model", PlaygroundServer.LongModel);
        await page.SelectOptionAsync("#p-format", "json_schema");
        await page.FillAsync("#p-schema", """{"type": "object", "properties": {"name": {"type": "string", "maxLength": 8}}, "required": ["name"], "additionalProperties": false}""");
        await page.FillAsync("#p-max-tokens", "64");
        await page.FillAsync("#chat-input", "Who are you?");
        await page.PressAsync("#chat-input", "Enter");
        await page.WaitForSelectorAsync("li.message.assistant:not(.pending) .meta:has-text('finish: stop')");
        string json = await page.EvaluateAsync<string>("JSON.parse(localStorage.getItem('genai.chat')).messages.at(-1).content");
        using var document = System.Text.Json.JsonDocument.Parse(json);
        Assert.True(document.RootElement.GetProperty("name").GetString()!.Length <= 8, json);
    });

    [BrowserFact]
    public Task StopEndsTheGenerationMidStream() => fixture.OnPageAsync("stop", withKey: true, async (page, _) =>
    {
        await page.GotoAsync(fixture.PageUrl);
        await WaitForModelsAsync(page);
        await page.SelectOptionAsync("#model", PlaygroundServer.LongModel);
        await page.FillAsync("#p-max-tokens", "1900");
        await page.UncheckAsync("#p-logprobs");
        await page.FillAsync("#chat-input", "Write a very long text.");
        await page.ClickAsync("#chat-send");
        await page.WaitForSelectorAsync("li.message.assistant.pending .content:not(:empty)");
        Assert.True(await page.IsEnabledAsync("#chat-stop"));
        await page.ClickAsync("#chat-stop");
        await page.WaitForSelectorAsync("li.message.assistant:not(.pending) .meta:has-text('stopped')");
        Assert.True(await page.IsDisabledAsync("#chat-stop"));
        Assert.True(await page.IsEnabledAsync("#chat-send"));
        string stopped = await page.InnerTextAsync("li.message.assistant .content");
        // Nothing more arrives once stopped, and the server lets the sequence go (no decode rows left busy).
        await Task.Delay(1000);
        Assert.Equal(stopped, await page.InnerTextAsync("li.message.assistant .content"));
        using var client = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string rows;
        do
        {
            rows = Regex.Match(await client.GetStringAsync("/metrics"), $"genai_active_rows{{model=\"{PlaygroundServer.LongModel}\"}} (\\S+)").Groups[1].Value;
            if (rows == "0") break;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal("0", rows);
    });

    [BrowserFact]
    public Task AFineTuningJobStartedFromThePageDrawsItsLossAndServesTheNewModel() => fixture.OnPageAsync("fine-tuning", withKey: true, async (page, _) =>
    {
        await page.GotoAsync(fixture.PageUrl + "#finetune");
        await WaitForModelsAsync(page);
        var lines = new StringBuilder();
        for (int i = 0; i < 24; i++) lines.Append($$"""{"messages": [{"role": "user", "content": "Line {{i}}: to be"}, {"role": "assistant", "content": "or not to be."}]}""").Append('\n');
        await page.SetInputFilesAsync("#upload-file", new FilePayload { Name = "hamlet.jsonl", MimeType = "application/jsonl", Buffer = Encoding.UTF8.GetBytes(lines.ToString()) });
        await page.ClickAsync("#upload-button");
        await page.WaitForSelectorAsync("#upload-result:has-text('Uploaded hamlet.jsonl')");
        await page.SelectOptionAsync("#job-model", "gpt2-tiny");
        string file = await page.InputValueAsync("#job-training-file");
        Assert.StartsWith("file-", file);
        await page.SelectOptionAsync("#job-validation-file", file);
        await page.FillAsync("#job-suffix", "browser");
        await page.FillAsync("#job-batch", "2");
        await page.FillAsync("#job-max-steps", "3");
        await page.FillAsync("#job-seed", "1");
        await page.ClickAsync("#job-create");

        // The chart gets points from the job's event stream as it trains, then the job succeeds.
        await page.WaitForSelectorAsync("#loss-chart circle.point.train >> nth=1", new PageWaitForSelectorOptions { Timeout = 90_000 });
        await page.WaitForSelectorAsync("#job-status[data-status=succeeded]", new PageWaitForSelectorOptions { Timeout = 90_000 });
        Assert.True(await page.Locator("#loss-chart circle.point.train").CountAsync() >= 3);
        Assert.True(await page.Locator("#loss-chart circle.point.valid").CountAsync() >= 1);
        Assert.Contains("step 3/3", await page.InnerTextAsync("#job-progress"));

        // The new model is in the picker, with its revision, and answers a chat.
        await page.WaitForSelectorAsync("#model option[value^='gpt2-tiny-ft-browser-']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached, Timeout = 60_000 });
        await page.WaitForSelectorAsync("#status:has-text('is in the model picker')");
        string option = await page.InnerTextAsync("#model option[value^='gpt2-tiny-ft-browser-']");
        Assert.Matches(@"gpt2-tiny-ft-browser-\S+ · rev-\S+", option);
        Assert.Contains("succeeded", await page.InnerTextAsync("#jobs tbody"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(PlaygroundServer.ScreenshotFolder, "fine-tuning.png"), FullPage = true });

        // A long job is cancelled from the page (at once when queued, at the worker's next heartbeat when running).
        await page.FillAsync("#job-suffix", "long");
        await page.FillAsync("#job-max-steps", "5000");
        await page.ClickAsync("#job-create");
        await page.WaitForSelectorAsync("#job-title:not(:has-text('→'))");
        await page.WaitForSelectorAsync("#job-cancel:not([disabled])");
        await page.ClickAsync("#job-cancel");
        await page.WaitForSelectorAsync("#job-status[data-status=cancelled]");
        await page.WaitForSelectorAsync("#jobs tbody tr:has-text('cancelled')");

        string model = (await page.GetAttributeAsync("#model option[value^='gpt2-tiny-ft-browser-']", "value"))!;
        await page.ClickAsync("#tab-chat");
        await page.SelectOptionAsync("#model", model);
        await page.FillAsync("#p-max-tokens", "4");
        await page.FillAsync("#chat-input", "Line 3: to be");
        await page.PressAsync("#chat-input", "Enter");
        await page.WaitForSelectorAsync("li.message.assistant:not(.pending) .meta:has-text('finish:')");
        Assert.Equal(model, await page.InnerTextAsync("li.message.assistant .who"));
    });

    [BrowserFact]
    public Task TheServerPanelShowsHealthModelsAndLiveFigures() => fixture.OnPageAsync("server", withKey: true, async (page, _) =>
    {
        await page.SetViewportSizeAsync(390, 844); // a phone
        await page.GotoAsync(fixture.PageUrl + "#server");
        await page.WaitForSelectorAsync("#fig-health[data-ok=true]");
        await page.WaitForSelectorAsync("#models-table tbody tr >> nth=1");
        string table = await page.InnerTextAsync("#models-table tbody");
        Assert.Contains("gpt2-tiny", table);
        Assert.Contains("float32", table);
        Assert.Contains("cpu", table);
        Assert.Contains("128", table); // the GPT-2 fixture's context
        Assert.Contains("rev-", table);
        // Tokens/s is a difference of two /metrics reads, 2 s apart.
        await UntilAsync(page, "/^\\d+\\.\\d$/.test(document.getElementById('fig-tps').textContent)");
        Assert.Matches(@"^\d+$", await page.InnerTextAsync("#fig-queue"));
        Assert.Matches(@"^\d+$", await page.InnerTextAsync("#fig-batch"));
        // Keyboard: the section tabs move with the arrow keys.
        await page.FocusAsync("#tab-server");
        await page.Keyboard.PressAsync("ArrowLeft");
        Assert.Equal("true", await page.GetAttributeAsync("#tab-finetune", "aria-selected"));
        Assert.True(await page.IsVisibleAsync("#panel-finetune"));
        Assert.Equal("tab-finetune", await page.EvaluateAsync<string>("document.activeElement.id"));
        await page.Keyboard.PressAsync("ArrowRight");
        Assert.True(await page.IsVisibleAsync("#panel-server"));
        // Readable on a phone: nothing wider than the screen.
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"));
    });
}
