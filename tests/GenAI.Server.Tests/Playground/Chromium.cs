namespace GenAI.Server.Tests.Playground;

/// <summary>
/// The system's Chromium, which the playground's browser tests drive through Playwright (Playwright's own browser
/// download is not used). Found from <c>GENAI_CHROMIUM</c> (a path), else <c>chromium</c>, <c>chromium-browser</c>,
/// <c>google-chrome-stable</c> or <c>google-chrome</c> on PATH. <c>.ci/run</c> installs Debian's <c>chromium</c>.
/// </summary>
internal static class Chromium
{
    /// <summary>Set by .ci/run: a missing browser fails the browser tests there instead of skipping them.</summary>
    public const string RequireVariable = "GENAI_REQUIRE_BROWSER";

    public static string? ExecutablePath { get; } = Find();

    public static string SkipReason =>
        "no Chromium found (set GENAI_CHROMIUM to its path, or install it: apt-get install chromium; .ci/run does): the playground's browser tests need one";

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("GENAI_CHROMIUM") is { Length: > 0 } given) return File.Exists(given) ? given : null;
        string[] folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (string name in new[] { "chromium", "chromium-browser", "google-chrome-stable", "google-chrome" })
        {
            foreach (string folder in folders)
            {
                string candidate = Path.Combine(folder, name);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }
}

/// <summary>
/// A test that needs a real browser: skipped, with the reason, where no Chromium is installed (a fresh machine running
/// <c>dotnet test</c> with only the .NET SDK); run, and failing if the browser is missing, where
/// <see cref="Chromium.RequireVariable"/> is set (CI).
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (Chromium.ExecutablePath is null && Environment.GetEnvironmentVariable(Chromium.RequireVariable) != "1") Skip = Chromium.SkipReason;
    }
}
