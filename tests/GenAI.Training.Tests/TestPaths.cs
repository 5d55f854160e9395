namespace GenAI.Training.Tests;

/// <summary>Fixtures in ../shared beside the repository, and a temporary folder per test class.</summary>
internal static class TestPaths
{
    public static string Shared { get; } = Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared"));

    public static string Gpt2Fixture => Path.Combine(Shared, "fixtures", "gpt2-tiny");

    public static string Shakespeare => Path.Combine(Shared, "data", "tinyshakespeare.txt");

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GenAI.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("GenAI.sln not found above " + AppContext.BaseDirectory);
    }
}
