using System.IO.Compression;

namespace GenAI.Tests.Shared;

/// <summary>
/// Locations the tests read: the repository root and its <c>tests/fixtures</c> (see tests/fixtures/README.md).
/// </summary>
internal static class TestPaths
{
    private static readonly Lock MaterializeGate = new();

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Fixtures => Path.Combine(RepoRoot, "tests", "fixtures");

    public static string Gpt2Tiny => Path.Combine(Fixtures, "gpt2-tiny");

    /// <summary>The default model's training corpus, kept beside it.</summary>
    public static string TinyShakespeare => Path.Combine(RepoRoot, "models", "tiny-shakespeare", "tinyshakespeare.txt");

    /// <summary>A real tokenizer's fixture folder (<c>llama3</c>, <c>qwen3</c>, <c>mistral</c>) with its tokenizer.json unpacked.</summary>
    public static string Tokenizer(string name) => Materialize("tokenizer-" + name, Path.Combine(Fixtures, "tokenizers", name), tokenizerName: name);

    /// <summary>
    /// A decoder fixture (<c>llama3-tiny</c>, <c>qwen3-tiny</c>, ...) as a complete Hugging Face model folder: the
    /// repository keeps one gzipped copy of each tokenizer (named by the folder's TOKENIZER file), so the folder is
    /// assembled once per test run beside the test assembly, weights linked, tokenizer files unpacked.
    /// </summary>
    public static string DecoderModel(string name)
    {
        string source = Path.Combine(Fixtures, name);
        string tokenizer = File.ReadAllText(Path.Combine(source, "TOKENIZER")).Trim();
        return Materialize(name, source, tokenizer);
    }

    /// <summary>
    /// A rotary decoder fixture (<c>qwen3-tiny</c>, <c>llama3-tiny</c>, <c>mistral-tiny</c>...) with the same weights and
    /// tokenizer but <c>max_position_embeddings</c> raised to <paramref name="positions"/> in its config.json: room for
    /// tool definitions, schemas and JSON outputs beyond the fixtures' 128 positions (rotary tables are computed, not
    /// learned, so the weights fit any length).
    /// </summary>
    public static string DecoderModelWithContext(string name, int positions) =>
        DerivedModel(DecoderModel(name), $"{name}-ctx{positions}", staging =>
        {
            var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(DecoderModel(name), "config.json")))!;
            config["max_position_embeddings"] = positions;
            File.WriteAllText(Path.Combine(staging, "config.json"), config.ToJsonString());
        }, "config.json");

    /// <summary>
    /// A model folder <paramref name="name"/> beside the test assembly made from <paramref name="source"/>: every file
    /// linked except <paramref name="rewritten"/>, which <paramref name="write"/> writes into the staging folder. Made
    /// once (staged, then moved into place, so concurrent test processes never see half a folder).
    /// </summary>
    public static string DerivedModel(string source, string name, Action<string> write, params string[] rewritten) =>
        Stage(source, name, fileName => rewritten.Contains(fileName), write);

    // A fixture's folder keeps its tokenizer packed (tokenizers/NAME/tokenizer.json.gz, named in its TOKENIZER file).
    private static string Materialize(string name, string source, string tokenizerName) =>
        Stage(source, name, fileName => fileName is "TOKENIZER" || fileName.EndsWith(".gz", StringComparison.Ordinal), staging =>
        {
            string tokenizerFolder = Path.Combine(Fixtures, "tokenizers", tokenizerName);
            using (var packed = File.OpenRead(Path.Combine(tokenizerFolder, "tokenizer.json.gz")))
            using (var gzip = new GZipStream(packed, CompressionMode.Decompress))
            using (var unpacked = File.Create(Path.Combine(staging, "tokenizer.json")))
            {
                gzip.CopyTo(unpacked);
            }
            string config = Path.Combine(staging, "tokenizer_config.json");
            if (!File.Exists(config)) File.CreateSymbolicLink(config, Path.Combine(tokenizerFolder, "tokenizer_config.json"));
        });

    private static string Stage(string source, string name, Func<string, bool> skip, Action<string> write)
    {
        string target = Path.Combine(AppContext.BaseDirectory, "fixture-models", name);
        lock (MaterializeGate)
        {
            if (Directory.Exists(target)) return target;
            string staging = target + ".tmp-" + Environment.ProcessId;
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            Directory.CreateDirectory(staging);
            foreach (string file in Directory.EnumerateFiles(source))
            {
                string fileName = Path.GetFileName(file);
                if (skip(fileName)) continue;
                File.CreateSymbolicLink(Path.Combine(staging, fileName), new FileInfo(file).LinkTarget is string link ? Path.GetFullPath(link, source) : file);
            }
            write(staging);
            try
            {
                Directory.Move(staging, target);
            }
            catch (IOException) when (Directory.Exists(target))
            {
                Directory.Delete(staging, recursive: true); // another test process finished first
            }
            return target;
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GenAI.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("GenAI.sln not found above " + AppContext.BaseDirectory);
    }
}
