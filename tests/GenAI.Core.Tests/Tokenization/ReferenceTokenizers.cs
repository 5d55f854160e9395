using System.Collections.Concurrent;
using System.Text.Json;
using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Tokenization;

/// <summary>The real tokenizers of tests/fixtures/tokenizers, each loaded once per test run, and their reference cases.</summary>
internal static class ReferenceTokenizers
{
    public static readonly string[] Names = ["llama3", "qwen3", "mistral"];

    private static readonly ConcurrentDictionary<string, Lazy<HuggingFaceTokenizer>> Loaded = new();

    public static HuggingFaceTokenizer Get(string name) =>
        Loaded.GetOrAdd(name, n => new Lazy<HuggingFaceTokenizer>(() => HuggingFaceTokenizer.Load(TestPaths.Tokenizer(n)))).Value;

    /// <summary>A file of cases (an object with "cases", or an array) as JSON elements.</summary>
    public static IReadOnlyList<JsonElement> Cases(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        var cases = root.ValueKind == JsonValueKind.Array ? root : root.GetProperty("cases");
        return cases.EnumerateArray().Select(c => c.Clone()).ToList();
    }

    public static int[] Ids(JsonElement element) => element.EnumerateArray().Select(i => i.GetInt32()).ToArray();
}
