using GenAI.Core.Runtime;
using TorchSharp;

namespace GenAI.Tests.Shared;

/// <summary>The build output of each test project that links this file carries a TorchSharp native library that loads (see build/TorchSharpNative.targets).</summary>
public class NativeLibraryTests
{
    [Fact]
    public void ATensorOpRuns()
    {
        TorchRuntime.EnsureAvailable();
        using var product = torch.ones(2, 3).matmul(torch.ones(3, 2)).sum();
        Assert.Equal(12f, product.item<float>());
    }
}
