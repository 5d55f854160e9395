using GenAI.Core.Models.Quantization;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models.Quantization;

/// <summary>Q8_0 quantization as llama.cpp's quantize_row_q8_0_ref, and the round trip's error bound.</summary>
public class Q8_0WeightTests
{
    [Theory]
    [InlineData(1, 32)]
    [InlineData(5, 37)]    // a partial last block
    [InlineData(64, 768)]
    [InlineData(3, 1000)]
    public void MatchesLlamaCppReferenceQuantization(int rows, int columns)
    {
        using var scope = NewDisposeScope();
        using var generator = new TorchSharp.torch.Generator(3);
        var weight = randn([rows, columns], generator: generator).mul(0.05);
        // Exact halves after scaling must round away from zero: a block whose largest |value| is 127 has scale 1.
        weight[0, 0] = tensor(127f);
        weight[0, 1] = tensor(2.5f);
        weight[0, 2] = tensor(-2.5f);
        weight[0, 3] = tensor(0.5f);
        using var q = Q8_0Weight.Quantize(weight);
        Assert.Equal(Q8_0.PaddedLength(columns), q.PaddedInFeatures);

        var values = weight.data<float>().ToArray();
        for (int r = 0; r < rows; r++)
        {
            for (int b = 0; b < q.Blocks; b++)
            {
                // quantize_row_q8_0_ref over the block (zeros past the last column)
                var block = Enumerable.Range(b * 32, 32).Select(k => k < columns ? values[r * columns + k] : 0f).ToArray();
                float amax = block.Max(MathF.Abs);
                float d = amax / 127;
                float id = d != 0 ? 1.0f / d : 0.0f;
                Assert.Equal(BitConverter.HalfToUInt16Bits((Half)d), q.ScaleRow(r)[b]);
                for (int k = 0; k < 32; k++)
                {
                    Assert.Equal((sbyte)MathF.Round(block[k] * id, MidpointRounding.AwayFromZero), q.ValueRow(r)[b * 32 + k]);
                }
            }
        }
        Assert.Equal([127, 3, -3, 1], q.ValueRow(0)[..4].ToArray().Select(v => (int)v));
    }

    /// <summary>
    /// Each value comes back within half a step of its block's scale d = absmax/127, plus the scale's own rounding to
    /// float16 (at most 2^-11 relative, times |q| ≤ 127): |w − q·d16| ≤ d · (0.5 + 127 · 2^-11) ≈ 0.562 d.
    /// </summary>
    [Theory]
    [InlineData(7, 45, ScalarType.Float32)]
    [InlineData(128, 768, ScalarType.Float32)]
    [InlineData(16, 96, ScalarType.BFloat16)]
    public void RoundTripErrorIsWithinHalfAStep(int rows, int columns, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var generator = new TorchSharp.torch.Generator(5);
        var weight = randn([rows, columns], generator: generator).mul(0.02);
        weight[0] = zeros(columns); // an all-zero row stays zero
        using var q = Q8_0Weight.Quantize(weight.to(dtype));
        var back = q.Dequantize();
        Assert.Equal([(long)rows, columns], back.shape);
        var source = weight.to(dtype).to(ScalarType.Float32);
        var padded = nn.functional.pad(source, [0, q.PaddedInFeatures - columns]).view(rows, q.Blocks, 32);
        var step = padded.abs().amax([2], keepdim: true).div(127).expand(rows, q.Blocks, 32).reshape(rows, q.PaddedInFeatures).narrow(1, 0, columns);
        var error = back.sub(source).abs();
        Assert.True(error.le(step.mul(0.5 + 127.0 / 2048)).all().item<bool>(), $"max error / step {error.div(step.clamp_min(1e-30)).max().item<float>()}");
        Assert.Equal(0f, back[0].abs().max().item<float>());
        // bfloat16 dequantization is the float32 one rounded
        var bf16 = q.Dequantize(ScalarType.BFloat16).to(ScalarType.Float32);
        Assert.True(bf16.sub(back).abs().le(back.abs().mul(1.0 / 256)).all().item<bool>());
    }

    [Fact]
    public void RefusesValuesBeyondFloat16Scales()
    {
        using var scope = NewDisposeScope();
        var weight = ones(2, 32);
        weight[1, 5] = tensor(float.PositiveInfinity);
        Assert.Throws<ArgumentException>(() => Q8_0Weight.Quantize(weight));
    }

    [Fact]
    public void HoldsAboutOneByteAndAnEighthOfAByteEachSixteenthPerWeight()
    {
        using var scope = NewDisposeScope();
        using var q = Q8_0Weight.Quantize(randn(64, 768));
        Assert.Equal(64L * 768 * 34 / 32, q.Bytes); // 32 int8 values + one float16 scale per block
    }
}
