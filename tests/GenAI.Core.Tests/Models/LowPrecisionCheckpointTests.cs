using GenAI.Core.Checkpoints;
using GenAI.Core.Models;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models;

/// <summary>
/// The fixture converted by our writer to F16 and BF16 storage, loaded back (computing in F32), gives all 24 of the
/// fixture's greedy tokens for the first prompt (the conversion is exact and deterministic on any CPU). Computing in
/// BF16 (8-bit mantissa: logit errors up to ~1e-2, above the fixture's smallest argmax margin of 0.008, and CPU
/// kernels differ in how they round) we assert the first 8; on this machine all 24 match.
/// </summary>
public sealed class LowPrecisionCheckpointTests(Gpt2TinyFixture fixture) : IClassFixture<Gpt2TinyFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    [Theory]
    [InlineData(ScalarType.Float16, SafetensorsDType.F16, 24)]
    [InlineData(ScalarType.BFloat16, SafetensorsDType.BF16, 24)]
    public void ConvertedCheckpointKeepsGreedyTokens(ScalarType dtype, SafetensorsDType stored, int identicalTokens)
    {
        ModelLoader.Save(fixture.Model, _temp.Path, dtype);
        using (var file = SafetensorsFile.Open(_temp.File(CheckpointWeights.SingleFileName)))
        {
            Assert.All(file.Tensors.Values, t => Assert.Equal(stored, t.DType));
        }
        using var model = ModelLoader.Load(_temp.Path, new ModelLoadOptions { Device = "cpu" });
        var prompt = ReferenceOutputs.Prompts[0];
        var (tokens, _) = Decoding.GreedyWithCache(model, prompt.Ids, prompt.GreedyIds.Length);
        Assert.Equal(prompt.GreedyIds.Take(identicalTokens), tokens.Take(identicalTokens));
    }

    [Fact]
    public void Bf16ComputeKeepsGreedyTokens()
    {
        using var model = ModelLoader.Load(TestPaths.Gpt2Tiny, new ModelLoadOptions { Device = "cpu", DType = ScalarType.BFloat16 });
        var prompt = ReferenceOutputs.Prompts[0];
        var (tokens, _) = Decoding.GreedyWithCache(model, prompt.Ids, prompt.GreedyIds.Length);
        Assert.Equal(prompt.GreedyIds.Take(8), tokens.Take(8));
    }

    public void Dispose() => _temp.Dispose();
}
