using GenAI.Core.Models.Kernels;
using GenAI.Core.Models.Layers;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models;

/// <summary>
/// The few-row RMSNorm and rotary kernels equal the libtorch formulation of the layers (what <see cref="RmsNorm"/> and
/// <see cref="RotaryEmbedding"/> compute with autograd on, where the kernels step aside): float32 within 1e-5 relative
/// (the sum of squares is added in another order); bfloat16 bit for bit but for one bfloat16 step where that order
/// moves a value across a rounding boundary.
/// </summary>
public class SmallRowKernelsTests
{
    [Theory]
    [InlineData(1, 960, false)]
    [InlineData(3, 37, false)]   // a scalar tail
    [InlineData(16, 64, false)]  // per-head norms (Qwen3's q_norm)
    [InlineData(1, 960, true)]
    [InlineData(5, 37, true)]
    public void RmsNormMatchesTheLibtorchFormulation(int rows, int features, bool bfloat16)
    {
        using var scope = NewDisposeScope();
        var dtype = bfloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        using var generator = new Generator(5);
        var x = randn([rows, 1, features], generator: generator).mul(3).to(dtype);
        var weight = randn([features], generator: generator).to(dtype);
        const double epsilon = 1e-6;

        var h = x.to(ScalarType.Float32);
        var expected = weight.mul(h.mul(h.pow(2).mean([-1], keepdim: true).add(epsilon).rsqrt()).to(dtype));
        Tensor actual;
        using (inference_mode())
        {
            Assert.True(SmallRowKernels.Applies(x, weight));
            actual = SmallRowKernels.RmsNorm(x, weight, epsilon);
        }
        AssertClose(expected, actual, bfloat16);
    }

    [Theory]
    [InlineData(1, 4, 64, 64, false, false)]
    [InlineData(3, 2, 96, 64, true, false)]  // partial rotary (Phi-4-mini), a table per row (LongRoPE, dynamic)
    [InlineData(2, 3, 32, 32, false, true)]
    [InlineData(4, 2, 80, 48, true, true)]
    public void RotaryMatchesRotateHalf(int batch, int heads, int headDim, int rotaryDim, bool tablePerRow, bool bfloat16)
    {
        using var scope = NewDisposeScope();
        var dtype = bfloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        using var generator = new Generator(9);
        // [batch, 1, heads, head_dim] transposed, as the attention hands the projected queries over.
        var x = randn([batch, 1, heads, headDim], generator: generator).to(dtype).transpose(1, 2);
        var cos = randn([tablePerRow ? batch : 1, 1, 1, rotaryDim], generator: generator).to(dtype);
        var sin = randn([tablePerRow ? batch : 1, 1, 1, rotaryDim], generator: generator).to(dtype);

        int half = rotaryDim / 2;
        var turning = x.narrow(-1, 0, rotaryDim);
        var rotated = cat([turning.narrow(-1, half, half).neg(), turning.narrow(-1, 0, half)], -1);
        var embedded = turning.mul(cos).add(rotated.mul(sin));
        var expected = rotaryDim == headDim ? embedded : cat([embedded, x.narrow(-1, rotaryDim, headDim - rotaryDim)], -1);
        Tensor actual;
        using (inference_mode())
        {
            Assert.True(SmallRowKernels.Applies(x, cos));
            actual = SmallRowKernels.Rotary(x, cos, sin, rotaryDim);
        }
        AssertClose(expected, actual, bfloat16);
    }

    [Fact]
    public void StepsAsideForAutogradAndLargeTensors()
    {
        using var scope = NewDisposeScope();
        var weight = ones(64);
        using (inference_mode())
        {
            Assert.True(SmallRowKernels.Applies(zeros(4, 64), weight));
            Assert.False(SmallRowKernels.Applies(zeros(2048, 64), weight));
            Assert.False(SmallRowKernels.Applies(zeros(4, 64, ScalarType.Float16), weight.to(ScalarType.Float16)));
        }
        using (enable_grad()) Assert.False(SmallRowKernels.Applies(zeros(4, 64), weight));
    }

    private static void AssertClose(Tensor expected, Tensor actual, bool bfloat16)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        var e = expected.to(ScalarType.Float32);
        var error = e.sub(actual.to(ScalarType.Float32)).abs();
        var bound = bfloat16 ? e.abs().mul(1.0 / 128).add(1e-6) : e.abs().mul(1e-5).add(1e-6);
        Assert.True(error.le(bound).all().item<bool>(), $"max error {error.max().item<float>()}");
    }
}
