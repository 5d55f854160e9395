using GenAI.Core.Models.Layers;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models;

/// <summary><see cref="LinearLayer.ApplyAll"/>: the layers' own results, in order, on every path.</summary>
public class LinearLayerTests
{
    [Theory]
    [InlineData(false, false)] // float weights, decode kernel
    [InlineData(false, true)]  // float weights, autograd: each layer on libtorch
    [InlineData(true, false)]  // int8 weights, decode kernel
    public void ApplyAllEqualsEachLayer(bool quantize, bool autograd)
    {
        using var scope = NewDisposeScope();
        using var generator = new TorchSharp.torch.Generator(31);
        LinearLayer[] layers = [new(64, 96), new(64, 32, bias: false), new(64, 32)];
        foreach (var layer in layers)
        {
            using var _ = no_grad();
            foreach (var parameter in layer.parameters()) parameter.copy_(randn(parameter.shape, generator: generator));
            if (quantize) layer.Quantize();
        }
        var x = randn([2, 1, 64], generator: generator);
        using IDisposable? inference = autograd ? null : inference_mode();
        var together = LinearLayer.ApplyAll(x, layers);
        Assert.Equal(layers.Length, together.Length);
        for (int i = 0; i < layers.Length; i++) Assert.True(layers[i].Apply(x).eq(together[i]).all().item<bool>(), $"layer {i}");
        foreach (var layer in layers) layer.Dispose();
    }
}
