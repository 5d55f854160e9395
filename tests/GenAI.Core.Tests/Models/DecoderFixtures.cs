using System.Collections.Concurrent;
using GenAI.Core.Models;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models;

/// <summary>The Llama-family fixture models (tests/fixtures/README-decoders.md), each loaded once per test run.</summary>
public sealed class DecoderFixtures : IDisposable
{
    /// <summary>The five fixture folders.</summary>
    public static readonly string[] Names = ["llama3-tiny", "qwen3-tiny", "qwen2-tiny", "mistral-tiny", "phi3-tiny"];

    private readonly ConcurrentDictionary<(string, ScalarType), CausalLanguageModel> _models = new();

    public static IEnumerable<object[]> All() => Names.Select(n => new object[] { n });

    public static IEnumerable<object[]> AllPrompts() =>
        Names.SelectMany(n => Enumerable.Range(0, 3).Select(i => new object[] { n, i }));

    public static string Folder(string name) => TestPaths.DecoderModel(name);

    /// <summary>The GPT-2 fixture, for tests that run it beside the Llama family.</summary>
    public CausalLanguageModel Gpt2 => _models.GetOrAdd(("gpt2-tiny", ScalarType.Float32), _ => ModelLoader.Load(TestPaths.Gpt2Tiny, new ModelLoadOptions { Device = "cpu" }));

    public CausalLanguageModel Model(string name, ScalarType dtype = ScalarType.Float32) =>
        _models.GetOrAdd((name, dtype), key => ModelLoader.Load(Folder(key.Item1), new ModelLoadOptions { Device = "cpu", DType = key.Item2 }));

    public void Dispose()
    {
        foreach (var model in _models.Values) model.Dispose();
    }
}
