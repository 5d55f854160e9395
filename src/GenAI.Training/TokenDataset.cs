using GenAI.Core.Tokenization;
using static TorchSharp.torch;

namespace GenAI.Training;

/// <summary>
/// A tokenized corpus in two splits, train and validation, sampled as random windows of block_size + 1 tokens (as
/// nanoGPT samples). Documents are tokenized one by one, each followed by the tokenizer's EOS token when it has
/// one, and concatenated into one stream; without an explicit validation set the stream is split as nanoGPT
/// splits it (the first 90% trains).
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

    private TokenDataset(long[] train, long[] validation)
    {
        _train = tensor(train);
        _validation = tensor(validation);
    }

    /// <summary>Tokens in each split.</summary>
    public (long Train, long Validation) Sizes => (_train.shape[0], _validation.shape[0]);

    /// <summary>One text as one document, split 90/10 (see <see cref="FromDocuments"/>).</summary>
    public static TokenDataset FromText(string text, TextTokenizer tokenizer) => FromDocuments([new TrainingDocument(text)], null, tokenizer);

    /// <summary>
    /// The token stream of <paramref name="train"/>; <paramref name="validation"/> is the validation split, or, when
    /// null, the last 10% of that stream is. Document text is encoded as ordinary text (special-token spellings in it
    /// stay text) after the tokenizer's BOS, unless a chat template wrote it (then its special tokens count); EOS ends
    /// each document.
    /// </summary>
    public static TokenDataset FromDocuments(IReadOnlyList<TrainingDocument> train, IReadOnlyList<TrainingDocument>? validation, TextTokenizer tokenizer)
    {
        var trainTokens = Stream(train, tokenizer);
        if (validation is not null) return new TokenDataset(trainTokens, Stream(validation, tokenizer));
        int split = (int)(trainTokens.Length * 0.9);
        return new TokenDataset(trainTokens[..split], trainTokens[split..]);
    }

    private static long[] Stream(IReadOnlyList<TrainingDocument> documents, TextTokenizer tokenizer)
    {
        // Text documents start as a prompt does when served (the BOS the tokenizer puts before one, if any); a chat
        // template writes its own. Each document ends with EOS unless the template already ended it with one.
        var bos = tokenizer.EncodePrompt("", addSpecialTokens: true);
        var tokens = new List<long>();
        foreach (var document in documents)
        {
            if (!document.FromTemplate) tokens.AddRange(bos.Select(id => (long)id));
            var ids = document.FromTemplate ? tokenizer.EncodeWithSpecialTokens(document.Text) : tokenizer.Encode(document.Text);
            foreach (int id in ids) tokens.Add(id);
            bool ended = document.FromTemplate && tokenizer.EosToken is string eos && document.Text.TrimEnd().EndsWith(eos, StringComparison.Ordinal);
            if (tokenizer.EosTokenId is int eosId && !ended) tokens.Add(eosId);
        }
        return tokens.ToArray();
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the split and <c>--block_size</c> when a split has fewer than
    /// <paramref name="blockSize"/> + 1 tokens, the least a window needs; the trainer checks this before it starts.
    /// </summary>
    public void EnsureWindowsFit(int blockSize)
    {
        foreach (var (name, data) in new[] { ("training", _train), ("validation", _validation) })
        {
            if (data.shape[0] < blockSize + 1)
            {
                throw new ArgumentException($"the {name} split has {data.shape[0]} tokens, fewer than --block_size + 1 = {blockSize + 1}: give more data or a smaller --block_size");
            }
        }
    }

    /// <summary>x [batch, block] and y (x shifted by one) from random windows of one split.</summary>
    public (Tensor X, Tensor Y) Batch(bool train, int batchSize, int blockSize, Generator generator)
    {
        var data = train ? _train : _validation;
        // Window starts in [0, length - block_size), as nanoGPT draws them.
        long starts = data.shape[0] - blockSize;
        if (starts < 1) EnsureWindowsFit(blockSize);
        using var scope = NewDisposeScope();
        var start = randint(0, starts, [batchSize], generator: generator);
        var offsets = arange(blockSize, ScalarType.Int64);
        var index = start.unsqueeze(1).add(offsets.unsqueeze(0));
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
