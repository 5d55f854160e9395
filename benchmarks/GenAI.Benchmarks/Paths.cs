namespace GenAI.Benchmarks;

/// <summary>Where benchmarks find ../shared (GPT-2 tokenizer files, the training corpus).</summary>
internal static class Paths
{
    public static string RepoRoot { get; } = Find();

    /// <summary>GPT-2's real vocab.json + merges.txt, from the fixture folder.</summary>
    public static string Gpt2TokenizerFolder => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "fixtures", "gpt2-tiny"));

    private static string Find()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GenAI.sln"))) return dir.FullName;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GenAI.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("run the benchmarks from the repository (GenAI.sln not found)");
    }
}
