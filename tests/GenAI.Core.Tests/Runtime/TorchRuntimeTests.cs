using GenAI.Core.Runtime;
using TorchSharp;

namespace GenAI.Core.Tests.Runtime;

public class TorchRuntimeTests
{
    [Fact]
    public void NativeLibraryLoadsAndATensorOpRuns()
    {
        TorchRuntime.EnsureAvailable();
        using var a = torch.ones(2, 3);
        using var b = a.matmul(torch.ones(3, 2)).sum();
        Assert.Equal(12f, b.item<float>());
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("CPU")]
    [InlineData("auto")]
    public void CpuAndAutoResolveWithoutAGpu(string spec)
    {
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve(spec).type);
    }

    [Theory]
    [InlineData("cuda", "CUDA is not available")]
    [InlineData("cuda:1", "CUDA is not available")]
    [InlineData("cuda:x", "GPU index must be a non-negative integer")]
    [InlineData("tpu", "not one of auto, cpu, cuda, cuda:N")]
    public void UnusableDevicesAreExplained(string spec, string reason)
    {
        if (torch.cuda.is_available() && reason.StartsWith("CUDA")) return; // a GPU machine can use them
        var e = Assert.Throws<ArgumentException>(() => ComputeDevice.Resolve(spec));
        Assert.Contains(reason, e.Message);
    }
}
