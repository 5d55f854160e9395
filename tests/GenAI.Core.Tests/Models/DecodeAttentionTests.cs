using GenAI.Core.Models;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models;

/// <summary>
/// <see cref="KvCache.Attend"/> (the decode-step attention that reads the cache in place) equals libtorch's
/// scaled_dot_product_attention over the same keys and values with the mask the step's semantics give: each row sees
/// keys up to its position (a row without a new token, its last cached one), or its last <c>window</c> of them; query
/// heads share key/value heads in groups. float32 within 1e-5; bfloat16 within one bfloat16 rounding of the output.
/// </summary>
public class DecodeAttentionTests
{
    /// <summary>
    /// A decode step's keys and values land where libtorch's narrow-and-copy puts them (the same cache written with
    /// autograd on takes that path): strided views of a fused projection, a row riding along, rows of different lengths.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DecodeWriteEqualsLibtorchCopy(bool bfloat16)
    {
        using var scope = NewDisposeScope();
        var dtype = bfloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        using var generator = new Generator(5);
        const int kvHeads = 3, headDim = 8, firstRow = 1;
        int[] cached = [2, 5, 0, 3];
        int[] newTokens = [1, 0, 1, 1];
        // [batch, 1, 2 (k, v), heads, head_dim] as a fused projection, permuted to [batch, heads, 1, head_dim] views.
        var fused = randn([cached.Length, 1, 2, kvHeads, headDim], generator: generator).to(dtype).permute(2, 0, 3, 1, 4);
        Tensor keys = fused[0], values = fused[1];
        Assert.False(keys.is_contiguous());
        var contents = new List<(Tensor Keys, Tensor Values)>();
        foreach (bool kernel in new[] { true, false })
        {
            var cache = new KvCache(layers: 1, maxBatch: 6, maxSequenceLength: 8, kvHeads, headDim, dtype, CPU);
            for (int b = 0; b < cached.Length; b++)
            {
                if (cached[b] == 0) continue;
                var prefill = cache.BeginStep(firstRow + b, 1, cached[b]);
                using (no_grad()) cache.Write(0, prefill, ones([1, kvHeads, cached[b], headDim], dtype), ones([1, kvHeads, cached[b], headDim], dtype).neg());
                cache.Commit(prefill);
            }
            var step = cache.BeginStep(firstRow, cached.Length, 1, newTokens);
            using ((IDisposable)(kernel ? inference_mode() : enable_grad())) cache.Write(0, step, keys, values);
            cache.Commit(step);
            var all = cache.BeginStep(0, 6, 1); // reads every row over the longest span
            var (k, v) = cache.Read(0, all);
            contents.Add((k.clone(), v.clone()));
        }
        Assert.True(contents[0].Keys.eq(contents[1].Keys).all().item<bool>());
        Assert.True(contents[0].Values.eq(contents[1].Values).all().item<bool>());
    }

    [Theory]
    [InlineData(6, 2, 20, null, false)]   // grouped heads, head size with a scalar tail
    [InlineData(4, 4, 64, null, false)]   // one key/value head per query head (GPT-2)
    [InlineData(8, 2, 32, 5, false)]      // sliding window shorter than most rows
    [InlineData(6, 3, 24, null, true)]    // bfloat16 cache
    [InlineData(4, 1, 64, 3, true)]
    public void EqualsLibtorchAttentionOverTheCache(int heads, int kvHeads, int headDim, int? window, bool bfloat16)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var dtype = bfloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        using var generator = new Generator(3);
        int[] cached = [7, 1, 12, 4];
        int[] newTokens = [1, 1, 0, 1]; // row 2 rides along without a token
        const int firstRow = 1;
        using var cache = new KvCache(layers: 1, maxBatch: 5, maxSequenceLength: 16, kvHeads, headDim, dtype, CPU);
        for (int b = 0; b < cached.Length; b++)
        {
            int length = cached[b];
            var keys = randn([1, kvHeads, length, headDim], generator: generator).to(dtype);
            var values = randn([1, kvHeads, length, headDim], generator: generator).to(dtype);
            var prefill = cache.BeginStep(firstRow + b, 1, length);
            cache.Write(0, prefill, keys, values);
            cache.Commit(prefill);
        }
        var step = cache.BeginStep(firstRow, cached.Length, 1, newTokens);
        cache.Write(0, step,
            randn([cached.Length, kvHeads, 1, headDim], generator: generator).to(dtype),
            randn([cached.Length, kvHeads, 1, headDim], generator: generator).to(dtype));
        var query = randn([cached.Length, heads, 1, headDim], generator: generator).to(dtype);
        double scale = 0.7 / Math.Sqrt(headDim);

        Assert.True(cache.CanAttend(step, query));
        var actual = cache.Attend(0, step, query, scale, window);

        var (allKeys, allValues) = cache.Read(0, step);
        int group = heads / kvHeads;
        var mask = new bool[cached.Length * step.Span];
        for (int b = 0; b < cached.Length; b++)
        {
            int position = newTokens[b] > 0 ? cached[b] : cached[b] - 1;
            for (int j = 0; j < step.Span; j++) mask[b * step.Span + j] = j <= position && (window is not int w || j > position - w);
        }
        var expected = nn.functional.scaled_dot_product_attention(
                query.to(ScalarType.Float32).mul(scale * Math.Sqrt(headDim)),
                allKeys.to(ScalarType.Float32).repeat_interleave(group, 1),
                allValues.to(ScalarType.Float32).repeat_interleave(group, 1),
                tensor(mask, [cached.Length, 1, 1, step.Span]))
            .transpose(1, 2).reshape(cached.Length, 1, heads * headDim);

        Assert.Equal(dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        var error = expected.sub(actual.to(ScalarType.Float32)).abs();
        var bound = bfloat16 ? expected.abs().mul(1.0 / 256).add(1e-3) : expected.abs().mul(1e-5).add(1e-5);
        Assert.True(error.le(bound).all().item<bool>(), $"max error {error.max().item<float>()}");
    }

    [Fact]
    public void DoesNotApplyToPrefillOrAutograd()
    {
        using var scope = NewDisposeScope();
        using var cache = new KvCache(layers: 1, maxBatch: 1, maxSequenceLength: 8, heads: 2, headDim: 8, ScalarType.Float32, CPU);
        var prefill = cache.BeginStep(0, 1, 3);
        using (inference_mode()) Assert.False(cache.CanAttend(prefill, zeros(1, 2, 3, 8)));
        var decode = cache.BeginStep(0, 1, 1);
        using (no_grad()) Assert.True(cache.CanAttend(decode, zeros(1, 2, 1, 8)));
        using (enable_grad()) Assert.False(cache.CanAttend(decode, zeros(1, 2, 1, 8)));
    }
}
