using System.Text;
using System.Text.Json.Nodes;
using GenAI.Core.Checkpoints;
using GenAI.Core.Models;
using GenAI.Core.Tests.Models;

namespace GenAI.Core.Tests.Checkpoints;

/// <summary>Every kind of bad checkpoint fails with a CheckpointException naming the file and, where one is at fault, the tensor.</summary>
public sealed class CorruptCheckpointTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private string WeightsPath => _temp.File(CheckpointWeights.SingleFileName);

    private static byte[] Raw(string headerJson, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        return [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[dataBytes]];
    }

    private CheckpointException OpenFails(byte[] content)
    {
        File.WriteAllBytes(WeightsPath, content);
        return Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(WeightsPath).Dispose());
    }

    [Fact]
    public void TruncatedBeforeHeaderLength()
    {
        var e = OpenFails([1, 2, 3]);
        Assert.Contains(WeightsPath, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void HeaderLengthPastTheEnd()
    {
        var e = OpenFails([.. BitConverter.GetBytes(1_000_000UL), .. "{}"u8.ToArray()]);
        Assert.Contains("header length 1000000 runs past the end", e.Message);
    }

    [Fact]
    public void InvalidJson()
    {
        var e = OpenFails(Raw("{\"a\": [1, 2", 0));
        Assert.Contains("not valid JSON", e.Message);
    }

    [Fact]
    public void UnknownDType()
    {
        var e = OpenFails(Raw("""{"w":{"dtype":"F8_E9","shape":[2],"data_offsets":[0,2]}}""", 2));
        Assert.Equal("w", e.TensorName);
        Assert.Contains("unknown dtype 'F8_E9'", e.Message);
    }

    [Fact]
    public void OffsetsOutOfRange()
    {
        var e = OpenFails(Raw("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8));
        Assert.Equal("w", e.TensorName);
        Assert.Contains("out of range", e.Message);
    }

    [Fact]
    public void TruncatedData()
    {
        string folder = _temp.Path;
        TinyModels.SaveTo(folder);
        var bytes = File.ReadAllBytes(WeightsPath);
        File.WriteAllBytes(WeightsPath, bytes[..(bytes.Length - 100)]);
        var e = Assert.Throws<CheckpointException>(() => ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu" }));
        Assert.Contains(WeightsPath, e.Message);
        Assert.NotNull(e.TensorName);
        Assert.Contains("out of range", e.Message);
    }

    [Fact]
    public void OverlappingOffsets()
    {
        var e = OpenFails(Raw("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12));
        Assert.Equal("b", e.TensorName);
        Assert.Contains("overlap tensor 'a'", e.Message);
    }

    [Fact]
    public void SizeDisagreesWithShape()
    {
        var e = OpenFails(Raw("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8));
        Assert.Contains("needs 12", e.Message);
    }

    [Fact]
    public void MissingTensor()
    {
        string folder = _temp.Path;
        TinyModels.SaveTo(folder);
        RewriteWeights(folder, tensors => tensors.Remove("h.1.mlp.c_fc.weight"));
        var e = Assert.Throws<CheckpointException>(() => ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu" }));
        Assert.Equal("h.1.mlp.c_fc.weight", e.TensorName);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void ShapeDisagreesWithConfig()
    {
        string folder = _temp.Path;
        TinyModels.SaveTo(folder);
        SetConfig("n_inner", 32); // the checkpoint's MLP is 64 wide
        var e = Assert.Throws<CheckpointException>(() => ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu" }));
        Assert.Equal("h.0.mlp.c_fc.weight", e.TensorName);
        Assert.Contains("does not match [16, 32]", e.Message);
    }

    [Fact]
    public void UnsupportedModelType()
    {
        string folder = _temp.Path;
        TinyModels.SaveTo(folder);
        SetConfig("model_type", "mamba");
        var e = Assert.Throws<CheckpointException>(() => ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu" }));
        Assert.Contains("config.json", e.Message);
        Assert.Contains("unsupported model_type 'mamba'", e.Message);
    }

    [Fact]
    public void InvalidConfigValueIsNamed()
    {
        string folder = _temp.Path;
        TinyModels.SaveTo(folder);
        SetConfig("n_head", 3);
        var e = Assert.Throws<CheckpointException>(() => ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu" }));
        Assert.Contains("'n_head' must be a divisor of n_embd (16)", e.Message);
    }

    [Fact]
    public void FolderWithoutWeights()
    {
        string folder = _temp.Path;
        TinyModels.SaveTo(folder);
        File.Delete(WeightsPath);
        var e = Assert.Throws<CheckpointException>(() => ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu" }));
        Assert.Contains("no model.safetensors", e.Message);
    }

    /// <summary>Changes one field of the saved config.json.</summary>
    private void SetConfig(string field, JsonNode value)
    {
        var config = JsonNode.Parse(File.ReadAllText(_temp.File("config.json")))!;
        config[field] = value;
        File.WriteAllText(_temp.File("config.json"), config.ToJsonString());
    }

    /// <summary>Reads the folder's weights, lets <paramref name="edit"/> change the name→tensor map, writes them back.</summary>
    internal static void RewriteWeights(string folder, Action<Dictionary<string, TorchSharp.torch.Tensor>> edit)
    {
        string path = Path.Combine(folder, CheckpointWeights.SingleFileName);
        Dictionary<string, TorchSharp.torch.Tensor> tensors;
        using (var file = SafetensorsFile.Open(path))
        {
            tensors = file.Tensors.Keys.ToDictionary(k => k, file.ReadTensor);
        }
        edit(tensors);
        SafetensorsWriter.Write(path, tensors);
        foreach (var t in tensors.Values) t.Dispose();
    }

    public void Dispose() => _temp.Dispose();
}
