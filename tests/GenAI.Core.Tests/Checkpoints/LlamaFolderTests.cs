using System.Text.Json.Nodes;
using GenAI.Core.Checkpoints;
using GenAI.Core.Models;
using GenAI.Core.Tests.Models;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Checkpoints;

/// <summary>Llama-family folders save as Hugging Face saves them and load back from every layout they come in.</summary>
public sealed class LlamaFolderTests(DecoderFixtures fixtures) : IClassFixture<DecoderFixtures>, IDisposable
{
    private static readonly ModelLoadOptions Cpu = new() { Device = "cpu" };
    private readonly TempFolder _temp = new();
    private static readonly long[] Input = [1, 5, 9, 2, 7, 11, 3];

    [Theory]
    [InlineData("phi3-tiny")]
    [InlineData("llama3-tiny")]
    [InlineData("qwen3-tiny")]
    public void SavedModelLoadsBackWithHuggingFaceNames(string name)
    {
        var model = fixtures.Model(name);
        var expected = Decoding.FullLogits(model, Input);
        ModelLoader.Save(model, _temp.Path, ScalarType.Float32);
        using (var file = SafetensorsFile.Open(_temp.File(CheckpointWeights.SingleFileName)))
        {
            Assert.Contains("model.embed_tokens.weight", file.Tensors.Keys);
            Assert.Equal(name == "phi3-tiny", file.Tensors.ContainsKey("model.layers.0.self_attn.qkv_proj.weight"));
            Assert.Equal(name == "phi3-tiny", file.Tensors.ContainsKey("model.layers.1.mlp.gate_up_proj.weight"));
            Assert.Equal(model.Config is Core.Models.Llama.LlamaConfig { TieWordEmbeddings: false }, file.Tensors.ContainsKey("lm_head.weight"));
        }
        var config = JsonNode.Parse(File.ReadAllText(_temp.File(ModelConfig.FileName)))!;
        var original = JsonNode.Parse(File.ReadAllText(Path.Combine(DecoderFixtures.Folder(name), ModelConfig.FileName)))!;
        Assert.Equal("float32", (string)config["torch_dtype"]!);
        config["torch_dtype"] = original["torch_dtype"]!.DeepClone();
        Assert.True(JsonNode.DeepEquals(original, config), "config.json is written back as it was read");

        using var loaded = ModelLoader.Load(_temp.Path, Cpu);
        Assert.Equal(expected, Decoding.FullLogits(loaded, Input));
    }

    [Fact]
    public void NamesWithoutTheModelPrefixLoad()
    {
        var model = fixtures.Model("mistral-tiny");
        var expected = Decoding.FullLogits(model, Input);
        ModelLoader.Save(model, _temp.Path);
        CorruptCheckpointTests.RewriteWeights(_temp.Path, tensors =>
        {
            foreach (var key in tensors.Keys.Where(k => k.StartsWith("model.", StringComparison.Ordinal)).ToList())
            {
                tensors[key["model.".Length..]] = tensors[key];
                tensors.Remove(key);
            }
        });
        using var loaded = ModelLoader.Load(_temp.Path, Cpu);
        Assert.Equal(expected, Decoding.FullLogits(loaded, Input));
    }

    [Fact]
    public void AMissingProjectionIsNamed()
    {
        ModelLoader.Save(fixtures.Model("qwen2-tiny"), _temp.Path);
        CorruptCheckpointTests.RewriteWeights(_temp.Path, tensors => tensors.Remove("model.layers.1.self_attn.k_proj.bias"));
        var e = Assert.Throws<CheckpointException>(() => ModelLoader.Load(_temp.Path, Cpu));
        Assert.Equal("layers.1.self_attn.k_proj.bias", e.TensorName);
    }

    [Fact]
    public void GroupedQueryCacheHoldsOnlyKeyValueHeads()
    {
        var model = fixtures.Model("llama3-tiny"); // 4 query heads share 2 key/value heads of 16
        using var cache = model.CreateKvCache(3, 100);
        Assert.Equal(2L /* K and V */ * 2 /* layers */ * 3 * 2 /* kv heads */ * 100 * 16 * sizeof(float), cache.ByteCount);
    }

    public void Dispose() => _temp.Dispose();
}
