using GenAI.Core.Tokenization;
using static TorchSharp.torch;

namespace GenAI.Training;

/// <summary>
/// A tokenized corpus split into train and validation (nanoGPT: the first 90% trains), sampled as random
/// windows of block_size + 1 tokens.
/// </summary>
public sealed class TokenDataset : IDisposable
{
    private readonly Tensor _train;
    private readonly Tensor _validation;

    /// <summary>Splits <paramref name="tokens"/>: the first <paramref name="trainFraction"/> trains.</summary>
    public TokenDataset(IReadOnlyList<int> tokens, double trainFraction = 0.9)
    {
        int split = (int)(tokens.Count * trainFraction);
        var all = tokens.Select(t => (long)t).ToArray();
        _train = tensor(all[..split]);
        _validation = tensor(all[split..]);
    }

    /// <summary>Tokens in each split.</summary>
    public (long Train, long Validation) Sizes => (_train.shape[0], _validation.shape[0]);

    /// <summary>The tokenized text file with <paramref name="tokenizer"/>.</summary>
    public static TokenDataset FromText(string text, TextTokenizer tokenizer) => new(tokenizer.Encode(text));

    /// <summary>x [batch, block] and y (x shifted by one) from random windows of one split.</summary>
    public (Tensor X, Tensor Y) Batch(bool train, int batchSize, int blockSize, Generator generator)
    {
        var data = train ? _train : _validation;
        long room = data.shape[0] - blockSize - 1;
        if (room < 1) throw new ArgumentException($"the {(train ? "training" : "validation")} split has {data.shape[0]} tokens, too few for block_size {blockSize}");
        using var scope = NewDisposeScope();
        var starts = randint(0, room, [batchSize], generator: generator);
        var offsets = arange(blockSize, ScalarType.Int64);
        var index = starts.unsqueeze(1).add(offsets.unsqueeze(0));
        var x = data.index_select(0, index.view(-1)).view(batchSize, blockSize);
        var y = data.index_select(0, index.add(1).view(-1)).view(batchSize, blockSize);
        return (x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _train.Dispose();
        _validation.Dispose();
    }
}
