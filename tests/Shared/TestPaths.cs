namespace GenAI.Tests.Shared;

/// <summary>Locations the tests read: the repository root and ../shared beside it (fixtures and data, read in place).</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Shared => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string Gpt2Tiny => Path.Combine(Shared, "fixtures", "gpt2-tiny");

    public static string TinyShakespeare => Path.Combine(Shared, "data", "tinyshakespeare.txt");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GenAI.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("GenAI.sln not found above " + AppContext.BaseDirectory);
    }
}
