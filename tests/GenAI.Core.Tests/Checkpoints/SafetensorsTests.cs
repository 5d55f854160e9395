using GenAI.Core.Checkpoints;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Checkpoints;

public sealed class SafetensorsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    [Fact]
    public void RoundTripsEveryDType()
    {
        string path = _temp.File("all.safetensors");
        using var scope = NewDisposeScope();
        var source = new Dictionary<string, Tensor>
        {
            ["f32"] = tensor(new float[] { 1.5f, -2.25f, 3f, 0f, 1e-3f, 7f }).view(2, 3),
            ["f16"] = tensor(new float[] { 0.5f, -1f, 65504f }).to(ScalarType.Float16),
            ["bf16"] = tensor(new float[] { 0.5f, -1f, 3.140625f }).to(ScalarType.BFloat16),
            ["i64"] = tensor(new long[] { long.MaxValue, -1, 50256 }),
            ["i32"] = tensor(new int[] { int.MinValue, 7 }),
            ["empty"] = zeros(0, 4),
            ["scalar"] = tensor(3.5f),
        };
        SafetensorsWriter.Write(path, source, new Dictionary<string, string> { ["format"] = "pt" });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(SafetensorsDType.BF16, file.Tensors["bf16"].DType);
        Assert.Equal([2L, 3L], file.Tensors["f32"].Shape);
        Assert.Empty(file.Tensors["scalar"].Shape);
        foreach (var (name, expected) in source)
        {
            using var actual = file.ReadTensor(name);
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(expected.equal(actual).all().item<bool>(), name);
        }
    }

    [Fact]
    public void HeaderIsPaddedToEightBytesAsHuggingFaceWrites()
    {
        string path = _temp.File("padded.safetensors");
        using var t = ones(3);
        SafetensorsWriter.Write(path, [KeyValuePair.Create("x", t)]);
        var bytes = File.ReadAllBytes(path);
        ulong headerLength = BitConverter.ToUInt64(bytes, 0);
        Assert.Equal(0UL, headerLength % 8);
        Assert.Equal(8 + (long)headerLength + 12, bytes.Length);
    }

    [Fact]
    public void ReadIntoConvertsDType()
    {
        string path = _temp.File("convert.safetensors");
        using var source = tensor(new float[] { 1f, 2.5f, -3f });
        SafetensorsWriter.Write(path, [KeyValuePair.Create("x", source)]);
        using var file = SafetensorsFile.Open(path);
        using var destination = empty(3, ScalarType.BFloat16);
        file.ReadInto("x", destination);
        Assert.True(destination.to(ScalarType.Float32).equal(source).all().item<bool>());
    }

    public void Dispose() => _temp.Dispose();
}
