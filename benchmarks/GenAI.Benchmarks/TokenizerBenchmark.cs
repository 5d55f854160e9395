using System.Diagnostics;
using System.IO.Compression;
using GenAI.Core.Tokenization;

namespace GenAI.Benchmarks;

/// <summary>
/// tokenizer.json speed on the repository's real tokenizers (Llama 3, Qwen3, Mistral): load time, and encode time of
/// 10,000 characters of English, 100k random letters, and one pre-token of 1M equal letters (the worst case for
/// merging), best of 3 after a warm-up.
/// </summary>
internal static class TokenizerBenchmark
{
    public static int Run(string[] args)
    {
        string english = string.Concat(Enumerable.Repeat(File.ReadAllText(Paths.TinyShakespeare)[..2000], 5));
        var random = new Random(7);
        string letters = new(Enumerable.Range(0, 100_000).Select(_ => (char)('a' + random.Next(26))).ToArray());
        string same = new('a', 1_000_000);
        Console.WriteLine($"{"tokenizer",-10} {"load ms",8} {"10k English ms",15} {"100k random ms",15} {"1M 'a' ms",10}");
        foreach (string name in new[] { "llama3", "qwen3", "mistral" })
        {
            string folder = Unpack(name);
            var watch = Stopwatch.StartNew();
            var tokenizer = TokenizerLoader.Load(folder);
            double load = watch.Elapsed.TotalMilliseconds;
            Directory.Delete(folder, recursive: true);
            Console.WriteLine($"{name,-10} {load,8:F0} {Best(tokenizer, english),15:F2} {Best(tokenizer, letters),15:F1} {Best(tokenizer, same),10:F0}");
        }
        return 0;
    }

    private static double Best(TextTokenizer tokenizer, string text)
    {
        tokenizer.Encode(text);
        return Enumerable.Range(0, 3).Select(_ =>
        {
            var watch = Stopwatch.StartNew();
            tokenizer.Encode(text);
            return watch.Elapsed.TotalMilliseconds;
        }).Min();
    }

    // The repository keeps each tokenizer gzipped beside its config (tests/fixtures/README.md).
    internal static string Unpack(string name)
    {
        string source = Path.Combine(Paths.RepoRoot, "tests", "fixtures", "tokenizers", name);
        string folder = Directory.CreateTempSubdirectory("genai-tokenizer-" + name + "-").FullName;
        File.Copy(Path.Combine(source, "tokenizer_config.json"), Path.Combine(folder, "tokenizer_config.json"));
        using var packed = File.OpenRead(Path.Combine(source, "tokenizer.json.gz"));
        using var gzip = new GZipStream(packed, CompressionMode.Decompress);
        using var unpacked = File.Create(Path.Combine(folder, "tokenizer.json"));
        gzip.CopyTo(unpacked);
        return folder;
    }
}
