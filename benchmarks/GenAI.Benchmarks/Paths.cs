using System.Text.Json;
using System.Text.Json.Nodes;

namespace GenAI.Benchmarks;

/// <summary>Where benchmarks find the repository's data (GPT-2 tokenizer files, the training corpus).</summary>
internal static class Paths
{
    public static string RepoRoot { get; } = Find();

    /// <summary>GPT-2's real vocab.json + merges.txt, from the fixture folder.</summary>
    public static string Gpt2TokenizerFolder => Path.Combine(RepoRoot, "tests", "fixtures", "gpt2-tiny");

    /// <summary>GPT-2's real vocab.json + merges.txt into <paramref name="folder"/>, and its tokenizer_config.json with the model's length.</summary>
    public static void WriteGpt2Tokenizer(string folder, int contextLength)
    {
        foreach (string file in new[] { "vocab.json", "merges.txt" }) File.Copy(Path.Combine(Gpt2TokenizerFolder, file), Path.Combine(folder, file), overwrite: true);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Gpt2TokenizerFolder, "tokenizer_config.json")))!.AsObject();
        config["model_max_length"] = contextLength;
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

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
