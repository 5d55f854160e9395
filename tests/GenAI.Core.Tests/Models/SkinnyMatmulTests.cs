using GenAI.Core.Models.Kernels;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models;

/// <summary>The decode kernel equals libtorch's linear (float32 rounding: atol 1e-4 on O(10) results).</summary>
public class SkinnyMatmulTests
{
    [Theory]
    [InlineData(1, 768, 3072, true)]
    [InlineData(3, 37, 101, true)]   // tails in every dimension
    [InlineData(4, 64, 2, false)]
    [InlineData(5, 16, 129, true)]
    [InlineData(16, 130, 257, true)]
    public void MatchesLibtorchLinear(int rows, int inFeatures, int outFeatures, bool withBias)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        using var generator = new TorchSharp.torch.Generator(7);
        var x = randn([rows, inFeatures], generator: generator);
        var weight = randn([outFeatures, inFeatures], generator: generator);
        var bias = withBias ? randn([outFeatures], generator: generator) : null;
        Assert.True(SkinnyMatmul.Applies(x, weight));
        var expected = nn.functional.linear(x, weight, bias);
        var actual = SkinnyMatmul.Linear(x, weight, bias);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.sub(actual).abs().max().item<float>() <= 1e-4f);
    }

    /// <summary>
    /// bfloat16 weights and activations, accumulated in float32: equal to libtorch's linear on the same values upcast
    /// to float32, up to the final rounding to bfloat16 (one bfloat16 ulp, 2^-8 relative, plus float32 noise).
    /// </summary>
    [Theory]
    [InlineData(1, 960, 2560, false)]
    [InlineData(3, 37, 101, true)]
    [InlineData(5, 16, 129, true)]
    [InlineData(16, 130, 257, false)]
    public void BFloat16MatchesLinearOnUpcastValues(int rows, int inFeatures, int outFeatures, bool withBias)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        using var generator = new TorchSharp.torch.Generator(11);
        var x = randn([rows, inFeatures], generator: generator).to(ScalarType.BFloat16);
        var weight = randn([outFeatures, inFeatures], generator: generator).to(ScalarType.BFloat16);
        var bias = withBias ? randn([outFeatures], generator: generator).to(ScalarType.BFloat16) : null;
        Assert.True(SkinnyMatmul.Applies(x, weight));
        var expected = nn.functional.linear(x.to(ScalarType.Float32), weight.to(ScalarType.Float32), bias?.to(ScalarType.Float32));
        var actual = SkinnyMatmul.Linear(x, weight, bias);
        Assert.Equal(ScalarType.BFloat16, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        var error = expected.sub(actual.to(ScalarType.Float32)).abs();
        var bound = expected.abs().mul(1.0 / 256).add(1e-3);
        Assert.True(error.le(bound).all().item<bool>(), $"max error {error.max().item<float>()}");
    }

    public static IEnumerable<object[]> TilePaths() =>
        from wide in new[] { false, true }
        where !wide || System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated
        from bfloat16 in new[] { false, true }
        from shape in new[] { (4, 64), (8, 37), (12, 768), (150, 1100) } // rows, features (37: tails of both vector widths; 150 × 1100: row blocks of a prefill)
        select new object[] { wide, bfloat16, shape.Item1, shape.Item2 };

    /// <summary>
    /// The 4 × 4 tiles (four or more rows of x, up to a prefill's worth in blocks) on 256-bit and, where the CPU has
    /// them, 512-bit vectors.
    /// </summary>
    [Theory]
    [MemberData(nameof(TilePaths))]
    public void TilesMatchLinearOnEitherVectorWidth(bool wide, bool bfloat16, int rows, int inFeatures)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        using var generator = new TorchSharp.torch.Generator(13);
        var dtype = bfloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        var x = randn([rows, inFeatures], generator: generator).to(dtype);
        var weight = randn([131, inFeatures], generator: generator).to(dtype);
        var expected = nn.functional.linear(x.to(ScalarType.Float32), weight.to(ScalarType.Float32));
        bool before = SkinnyMatmul.WideVectors;
        Tensor actual;
        try
        {
            SkinnyMatmul.WideVectors = wide;
            actual = SkinnyMatmul.Linear(x, weight, null).to(ScalarType.Float32);
        }
        finally
        {
            SkinnyMatmul.WideVectors = before;
        }
        var error = expected.sub(actual).abs();
        var bound = bfloat16 ? expected.abs().mul(1.0 / 256).add(1e-3) : expected.abs().mul(1e-5).add(1e-4);
        Assert.True(error.le(bound).all().item<bool>(), $"max error {error.max().item<float>()}");
    }

    /// <summary>
    /// Several projections in one call (q, k, v of different widths; some with a bias) equal the calls one by one, bit
    /// for bit, on either vector width: a weight's rows split across the kernel threads on multiples of 4 however many
    /// weights share the call (on 256-bit vectors a 4 × 4 tile and a lone row sum in different orders).
    /// </summary>
    [Theory]
    [InlineData(ScalarType.Float32, 1, false)]
    [InlineData(ScalarType.Float32, 5, false)]
    [InlineData(ScalarType.Float32, 5, true)]
    [InlineData(ScalarType.BFloat16, 1, false)]
    [InlineData(ScalarType.BFloat16, 16, false)]
    public void SeveralProjectionsEqualOneByOne(ScalarType dtype, int rows, bool wide)
    {
        if (wide && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return;
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        using var generator = new TorchSharp.torch.Generator(23);
        var x = randn([rows, 96], generator: generator).to(dtype);
        Tensor[] weights = [randn([192, 96], generator: generator).to(dtype), randn([64, 96], generator: generator).to(dtype), randn([37, 96], generator: generator).to(dtype)];
        Tensor?[] biases = [randn([192], generator: generator).to(dtype), null, randn([37], generator: generator).to(ScalarType.Float32)];
        bool before = SkinnyMatmul.WideVectors;
        try
        {
            SkinnyMatmul.WideVectors = wide;
            var together = SkinnyMatmul.Linear(x, weights, biases);
            Assert.Equal(3, together.Length);
            for (int i = 0; i < weights.Length; i++)
            {
                var alone = SkinnyMatmul.Linear(x, weights[i], biases[i]);
                Assert.Equal(dtype, together[i].dtype);
                Assert.True(alone.eq(together[i]).all().item<bool>(), $"projection {i}: max difference {alone.to(ScalarType.Float32).sub(together[i].to(ScalarType.Float32)).abs().max().item<float>()}");
            }
        }
        finally
        {
            SkinnyMatmul.WideVectors = before;
        }
    }

    /// <summary>x a strided view (columns of a wider tensor), bias in the other float dtype: copied, not misread.</summary>
    [Theory]
    [InlineData(ScalarType.Float32, ScalarType.BFloat16)]
    [InlineData(ScalarType.BFloat16, ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16, ScalarType.BFloat16)]
    public void TakesStridedRowsAndEitherBiasDtype(ScalarType dtype, ScalarType biasDtype)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        using var generator = new TorchSharp.torch.Generator(17);
        var wide = randn([3, 2, 80], generator: generator).to(dtype);
        var x = wide.narrow(2, 8, 64);
        Assert.False(x.is_contiguous());
        var weight = randn([96, 64], generator: generator).to(dtype);
        var bias = randn([96], generator: generator).to(biasDtype);
        Assert.True(SkinnyMatmul.Applies(x, weight));
        var expected = nn.functional.linear(x.to(ScalarType.Float32), weight.to(ScalarType.Float32), bias.to(ScalarType.Float32));
        var actual = SkinnyMatmul.Linear(x, weight, bias);
        Assert.Equal(dtype, actual.dtype);
        Assert.Equal([3L, 2L, 96L], actual.shape);
        var error = expected.sub(actual.to(ScalarType.Float32)).abs();
        var bound = expected.abs().mul(dtype == ScalarType.BFloat16 ? 1.0 / 256 : 1e-5).add(1e-3);
        Assert.True(error.le(bound).all().item<bool>(), $"max error {error.max().item<float>()}");
    }

    /// <summary>The kernel's float32 → bfloat16 conversion is libtorch's, bit for bit (ties to even, infinities), and keeps NaN.</summary>
    [Fact]
    public unsafe void BFloat16ConversionEqualsLibtorch()
    {
        using var scope = NewDisposeScope();
        using var generator = new TorchSharp.torch.Generator(19);
        float[] special = [0f, -0f, 1f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.MaxValue, float.Epsilon,
            BitConverter.UInt32BitsToSingle(0x3F808000), BitConverter.UInt32BitsToSingle(0x3F818000), BitConverter.UInt32BitsToSingle(0x3F80FFFF)];
        var values = cat([tensor(special), randn([1000], generator: generator).mul(1e3)]);
        var source = values.data<float>().ToArray();
        var converted = new ushort[source.Length];
        fixed (float* from = source)
        fixed (ushort* to = converted)
        {
            BFloat16Bits.FromSingles(from, to, source.Length);
        }
        var expected = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(values.to(ScalarType.BFloat16).bytes).ToArray();
        // NaN: any NaN pattern (libtorch's vector path writes 0xFFFF, its scalar path 0x7FC0).
        static bool IsNaN(ushort bits) => (bits & 0x7F80) == 0x7F80 && (bits & 0x7F) != 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (IsNaN(expected[i])) Assert.True(IsNaN(converted[i]), $"element {i}: {converted[i]:X4} is not NaN");
            else Assert.Equal(expected[i], converted[i]);
        }
    }

    [Fact]
    public void KeepsLeadingDimensions()
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 8);
        var weight = randn(5, 8);
        var actual = SkinnyMatmul.Linear(x, weight, null);
        Assert.Equal([2L, 3L, 5L], actual.shape);
        Assert.True(nn.functional.linear(x, weight).sub(actual).abs().max().item<float>() <= 1e-5f);
    }

    [Fact]
    public void DoesNotApplyWhereAutogradOrManyRowsAreInvolved()
    {
        using var scope = NewDisposeScope();
        var weight = randn(4, 8);
        Assert.False(SkinnyMatmul.Applies(randn(2, 8), weight)); // grad mode on: training needs autograd
        using var inference = inference_mode();
        Assert.False(SkinnyMatmul.Applies(randn(SkinnyMatmul.MaxRows + 1, 8).to(ScalarType.BFloat16), weight.to(ScalarType.BFloat16)));
        Assert.Equal(SkinnyMatmul.TakesFloat32Gemm, SkinnyMatmul.Applies(randn(SkinnyMatmul.MaxRows + 1, 8), weight));
        bool wide = SkinnyMatmul.WideVectors;
        try
        {
            SkinnyMatmul.WideVectors = false; // float32 prefills go to libtorch without 512-bit vectors
            Assert.False(SkinnyMatmul.Applies(randn(SkinnyMatmul.MaxRows + 1, 8), weight));
        }
        finally
        {
            SkinnyMatmul.WideVectors = wide;
        }
        Assert.False(SkinnyMatmul.Applies(randn(2, 8, ScalarType.Float16), weight.to(ScalarType.Float16)));
        Assert.False(SkinnyMatmul.Applies(randn(2, 8), weight.to(ScalarType.BFloat16))); // mixed dtypes
    }
}
