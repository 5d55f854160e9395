namespace GenAI.Server.Tests;

internal static class TestPaths
{
    public static string RepoRoot { get; } = Find();

    public static string Gpt2Tiny => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "fixtures", "gpt2-tiny"));

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GenAI.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("GenAI.sln not found above " + AppContext.BaseDirectory);
    }
}
