using GenAI.Core.Checkpoints;
using GenAI.Core.Models;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models;

/// <summary>
/// The fixture converted by our writer to F16 and BF16 storage, loaded back (computing in F32), gives the
/// fixture's greedy tokens for the first prompt: all 24 for F16 (11-bit mantissa, logit error ~1e-3 against
/// argmax margins of at least 0.008); for BF16 (8-bit mantissa, logit error up to ~1e-2, above the smallest
/// margins) the tokens up to the first near-tie, which we state as the first 8.
/// </summary>
public sealed class LowPrecisionCheckpointTests(Gpt2TinyFixture fixture) : IClassFixture<Gpt2TinyFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    [Theory]
    [InlineData(ScalarType.Float16, SafetensorsDType.F16, 24)]
    [InlineData(ScalarType.BFloat16, SafetensorsDType.BF16, 8)]
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
