using System.Text.Json.Nodes;
using GenAI.Core.Checkpoints;
using GenAI.Core.Models;
using GenAI.Core.Tests.Models;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Checkpoints;

/// <summary>The Hugging Face layouts a model folder may come in all load to the same model.</summary>
public sealed class ModelFolderTests : IDisposable
{
    private static readonly ModelLoadOptions Cpu = new() { Device = "cpu" };
    private readonly TempFolder _temp = new();

    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(max <= tolerance, $"max abs difference {max} > {tolerance}");
    }

    [Fact]
    public void SavedModelLoadsBackExactly()
    {
        var expected = TinyModels.SaveTo(_temp.Path);
        using var model = ModelLoader.Load(_temp.Path, Cpu);
        AssertClose(expected, Decoding.FullLogits(model, TinyModels.Input), 0);
        var config = JsonNode.Parse(File.ReadAllText(_temp.File("config.json")))!;
        Assert.Equal("gpt2", (string)config["model_type"]!);
        Assert.Equal("float32", (string)config["torch_dtype"]!);
    }

    [Fact]
    public void TransformerPrefixedNamesAndBuffersAreAccepted()
    {
        var expected = TinyModels.SaveTo(_temp.Path);
        CorruptCheckpointTests.RewriteWeights(_temp.Path, tensors =>
        {
            foreach (var name in tensors.Keys.ToList())
            {
                tensors["transformer." + name] = tensors[name];
                tensors.Remove(name);
            }
            tensors["transformer.h.0.attn.bias"] = ones(1, 1, 32, 32).tril();
            tensors["transformer.h.0.attn.masked_bias"] = tensor(-1e4f);
            tensors["lm_head.weight"] = tensors["transformer.wte.weight"].clone();
        });
        using var model = ModelLoader.Load(_temp.Path, Cpu);
        AssertClose(expected, Decoding.FullLogits(model, TinyModels.Input), 0);
    }

    [Fact]
    public void UntiedHeadLoadsExplicitLmHead()
    {
        var config = TinyModels.Config(tie: false);
        var expected = TinyModels.SaveTo(_temp.Path, config);
        using (var file = SafetensorsFile.Open(_temp.File(CheckpointWeights.SingleFileName)))
        {
            Assert.Contains("lm_head.weight", file.Tensors.Keys);
        }
        using var model = ModelLoader.Load(_temp.Path, Cpu);
        AssertClose(expected, Decoding.FullLogits(model, TinyModels.Input), 0);
    }

    [Fact]
    public void ShardedCheckpointLoads()
    {
        var expected = TinyModels.SaveTo(_temp.Path);
        string single = _temp.File(CheckpointWeights.SingleFileName);
        var weightMap = new JsonObject();
        using (var file = SafetensorsFile.Open(single))
        {
            var names = file.Tensors.Keys.OrderBy(n => n).ToList();
            var shards = new[] { names.Take(names.Count / 2).ToList(), names.Skip(names.Count / 2).ToList() };
            for (int i = 0; i < shards.Length; i++)
            {
                string shardName = $"model-{i + 1:D5}-of-00002.safetensors";
                var tensors = shards[i].ToDictionary(n => n, file.ReadTensor);
                SafetensorsWriter.Write(_temp.File(shardName), tensors);
                foreach (var t in tensors.Values) t.Dispose();
                foreach (var n in shards[i]) weightMap[n] = shardName;
            }
        }
        File.Delete(single);
        File.WriteAllText(_temp.File(CheckpointWeights.IndexFileName), new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = weightMap }.ToJsonString());
        using var model = ModelLoader.Load(_temp.Path, Cpu);
        AssertClose(expected, Decoding.FullLogits(model, TinyModels.Input), 0);
    }

    [Fact]
    public void ShardIndexNamingAMissingTensorFails()
    {
        TinyModels.SaveTo(_temp.Path);
        File.WriteAllText(_temp.File(CheckpointWeights.IndexFileName),
            """{"weight_map":{"wte.weight":"model.safetensors","nope.weight":"model.safetensors"}}""");
        var e = Assert.Throws<CheckpointException>(() => ModelLoader.Load(_temp.Path, Cpu));
        Assert.Equal("nope.weight", e.TensorName);
    }

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void LowerPrecisionComputeIsClose(ScalarType dtype)
    {
        var expected = TinyModels.SaveTo(_temp.Path);
        using var model = ModelLoader.Load(_temp.Path, new ModelLoadOptions { Device = "cpu", DType = dtype });
        Assert.Equal(dtype, model.DType);
        // bf16 keeps 8 mantissa bits (relative error ~4e-3 per op), f16 11 bits; logits here are O(1).
        AssertClose(expected, Decoding.FullLogits(model, TinyModels.Input), dtype == ScalarType.BFloat16 ? 0.1 : 0.02);
    }

    public void Dispose() => _temp.Dispose();
}
