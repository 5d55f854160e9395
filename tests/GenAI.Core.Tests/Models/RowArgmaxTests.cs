using GenAI.Core.Models.Kernels;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models;

/// <summary><see cref="RowArgmax"/> gives libtorch's argmax(1) exactly: first of equal maxima, NaN first, masked rows, tails.</summary>
public class RowArgmaxTests
{
    [Fact]
    public void EqualsLibtorchArgmax()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(37);
        const int vocab = 50257; // a tail of 1 past whole vectors
        var logits = randn([12, vocab], generator: generator);
        logits[1, 7] = 100f; logits[1, 12] = 100f;                                       // ties: the first wins (same lane block)
        logits[2, 3] = 50f; logits[2, 50256] = 50f;                                     // tie with the tail
        logits[3].fill_(float.NegativeInfinity);                                        // everything masked
        logits[4].fill_(float.NegativeInfinity); logits[4, 50250] = -3f;               // one allowed token near the end
        logits[5, 40000] = float.NaN; logits[5, 9] = 1000f;                             // NaN beats any number
        logits[6, 50256] = float.NaN; logits[6, 100] = float.NaN;                       // the first NaN
        logits[7, 50256] = 1000f;                                                       // the maximum in the tail
        logits[8, 8] = 77f; logits[8, 1] = 77f;                                         // equal maxima in different lanes
        logits[9].fill_(2f);                                                            // all equal
        var expected = logits.argmax(1).data<long>().ToArray();
        Assert.Equal(expected, RowArgmax.Compute(logits));

        var shortRows = randn([3, 5], generator: generator); // no whole vector
        Assert.Equal(shortRows.argmax(1).data<long>().ToArray(), RowArgmax.Compute(shortRows));
        var strided = logits.narrow(1, 0, 1000); // not contiguous
        Assert.Equal(strided.argmax(1).data<long>().ToArray(), RowArgmax.Compute(strided));
    }
}
