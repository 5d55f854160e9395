namespace GenAI.Benchmarks;

/// <summary>Where benchmarks find the repository's data (GPT-2 tokenizer files, the training corpus).</summary>
internal static class Paths
{
    public static string RepoRoot { get; } = Find();

    /// <summary>GPT-2's real vocab.json + merges.txt, from the fixture folder.</summary>
    public static string Gpt2TokenizerFolder => Path.Combine(RepoRoot, "tests", "fixtures", "gpt2-tiny");

    /// <summary>The default model's training corpus, kept beside it.</summary>
    public static string TinyShakespeare => Path.Combine(RepoRoot, "models", "tiny-shakespeare", "tinyshakespeare.txt");

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
