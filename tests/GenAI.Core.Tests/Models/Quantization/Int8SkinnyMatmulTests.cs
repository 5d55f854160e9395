using GenAI.Core.Models.Kernels;
using GenAI.Core.Models.Quantization;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models.Quantization;

/// <summary>
/// The int8 (Q8_0) decode kernel against libtorch's linear on the dequantized weights, on both paths. Tolerances: the
/// portable path computes the same float32 sum in another order (|error| ≤ 1e-5 · Σ|w·x| + 1e-5); the VNNI path also
/// rounds x to Q8_0, each value by at most half its block's step (max|x| of the block / 127), so its error is bounded by
/// Σ |w| · step/2 on top of that.
/// </summary>
public class Int8SkinnyMatmulTests
{
    public static IEnumerable<object[]> Paths() =>
        new[] { Int8KernelPath.Portable, Int8KernelPath.Vnni }.Where(p => p == Int8KernelPath.Portable || SkinnyMatmul.VnniSupported).Select(p => new object[] { p });

    public static IEnumerable<object[]> Cases() =>
        from path in Paths().Select(p => (Int8KernelPath)p[0])
        from c in new (int Rows, int In, int Out, bool Bias)[]
        {
            (1, 768, 3072, true), (1, 3072, 768, false), (3, 37, 101, true), (4, 64, 2, false), (5, 16, 129, true),
            (8, 96, 67, true), (16, 130, 257, true), (2, 40, 9, false), (7, 256, 33, false), (13, 64, 260, true),
        }
        select new object[] { path, c.Rows, c.In, c.Out, c.Bias };

    public static IEnumerable<object[]> EveryRowCount() =>
        from path in Paths().Select(p => (Int8KernelPath)p[0])
        from rows in Enumerable.Range(1, SkinnyMatmul.MaxRows)
        select new object[] { path, rows };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesLinearOnDequantizedWeights(Int8KernelPath path, int rows, int inFeatures, int outFeatures, bool withBias) =>
        Check(path, rows, inFeatures, outFeatures, withBias, seed: 7);

    [Theory]
    [MemberData(nameof(EveryRowCount))]
    public void MatchesForEveryRowCount(Int8KernelPath path, int rows) => Check(path, rows, 100, 75, withBias: true, seed: rows);

    /// <summary>bfloat16 x is computed in float32 and the result rounded back to bfloat16 (one bfloat16 ulp, 2^-8 relative).</summary>
    [Fact]
    public void BFloat16ActivationsComeBackInBFloat16()
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var x = randn(3, 64).to(ScalarType.BFloat16);
        using var weight = Q8_0Weight.Quantize(randn(40, 64));
        var before = SkinnyMatmul.Int8Path;
        Tensor actual;
        try
        {
            SkinnyMatmul.Int8Path = Int8KernelPath.Portable;
            actual = SkinnyMatmul.Linear(x, weight, null);
        }
        finally
        {
            SkinnyMatmul.Int8Path = before;
        }
        Assert.Equal(ScalarType.BFloat16, actual.dtype);
        var expected = nn.functional.linear(x.to(ScalarType.Float32), weight.Dequantize());
        Assert.True(actual.to(ScalarType.Float32).sub(expected).abs().le(expected.abs().mul(1.0 / 256).add(1e-3)).all().item<bool>());
    }

    /// <summary>Several int8 projections in one call (x quantized or padded once) equal the calls one by one, bit for bit.</summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void SeveralProjectionsEqualOneByOne(Int8KernelPath path)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        using var generator = new TorchSharp.torch.Generator(29);
        var x = randn([3, 100], generator: generator); // 100 features: padded to whole blocks
        Q8_0Weight[] weights = [Q8_0Weight.Quantize(randn([130, 100], generator: generator)), Q8_0Weight.Quantize(randn([20, 100], generator: generator))];
        Tensor?[] biases = [null, randn([20], generator: generator)];
        var before = SkinnyMatmul.Int8Path;
        try
        {
            SkinnyMatmul.Int8Path = path;
            var together = SkinnyMatmul.Linear(x, weights, biases);
            for (int i = 0; i < weights.Length; i++)
            {
                Assert.True(SkinnyMatmul.Linear(x, weights[i], biases[i]).eq(together[i]).all().item<bool>(), $"projection {i}");
            }
        }
        finally
        {
            SkinnyMatmul.Int8Path = before;
            foreach (var weight in weights) weight.Dispose();
        }
    }

    [Fact]
    public void DoesNotApplyWithAutogradManyRowsOrTheWrongWidth()
    {
        using var scope = NewDisposeScope();
        using var weight = Q8_0Weight.Quantize(randn(4, 64));
        Assert.False(SkinnyMatmul.Applies(randn(2, 64), weight)); // grad mode on
        using var inference = inference_mode();
        Assert.True(SkinnyMatmul.Applies(randn(2, 64), weight));
        Assert.False(SkinnyMatmul.Applies(randn(SkinnyMatmul.MaxRows + 1, 64), weight));
        Assert.False(SkinnyMatmul.Applies(randn(2, 63), weight));
        Assert.Throws<ArgumentException>(() => SkinnyMatmul.Linear(randn(2, 63), weight, null));
    }

    private static void Check(Int8KernelPath path, int rows, int inFeatures, int outFeatures, bool withBias, int seed)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        using var generator = new TorchSharp.torch.Generator((ulong)seed);
        var x = randn([rows, inFeatures], generator: generator);
        using var weight = Q8_0Weight.Quantize(randn([outFeatures, inFeatures], generator: generator).mul(0.05));
        var bias = withBias ? randn([outFeatures], generator: generator) : null;
        Assert.True(SkinnyMatmul.Applies(x, weight));

        var before = SkinnyMatmul.Int8Path;
        Tensor actual;
        try
        {
            SkinnyMatmul.Int8Path = path;
            actual = SkinnyMatmul.Linear(x, weight, bias);
        }
        finally
        {
            SkinnyMatmul.Int8Path = before;
        }

        var dequantized = weight.Dequantize();
        var expected = nn.functional.linear(x, dequantized, bias);
        Assert.Equal(expected.shape, actual.shape);
        var bound = nn.functional.linear(x.abs(), dequantized.abs()).mul(1e-5).add(1e-5);
        if (path == Int8KernelPath.Vnni)
        {
            int blocks = weight.Blocks;
            var halfStep = nn.functional.pad(x, [0, weight.PaddedInFeatures - inFeatures]).view(rows, blocks, 32).abs().amax([2], keepdim: true)
                .div(127 * 2).expand(rows, blocks, 32).reshape(rows, weight.PaddedInFeatures).narrow(1, 0, inFeatures);
            bound = bound.add(nn.functional.linear(halfStep, dequantized.abs()));
        }
        var error = actual.sub(expected).abs();
        Assert.True(error.le(bound).all().item<bool>(), $"{path}: max error {error.max().item<float>()}, max error / bound {error.div(bound).max().item<float>()}");
    }
}
