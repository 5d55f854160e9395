using GenAI.Core.Models;

namespace GenAI.Core.Tests.Models;

/// <summary>The fixture checkpoint loaded once (F32, CPU) for a test class.</summary>
public sealed class Gpt2TinyFixture : IDisposable
{
    public Gpt2TinyFixture() => Model = ModelLoader.Load(TestPaths.Gpt2Tiny, new ModelLoadOptions { Device = "cpu" });

    public CausalLanguageModel Model { get; }

    public void Dispose() => Model.Dispose();
}
