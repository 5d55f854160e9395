using TorchSharp;

namespace GenAI.Core.Tests;

public class TorchLoadsTests
{
    [Fact]
    public void TensorOpRuns()
    {
        using var a = torch.ones(2, 3);
        using var b = a.sum();
        Assert.Equal(6f, b.item<float>());
    }
}
