using System.Threading.Channels;
using GenAI.Core.Tokenization;
using static TorchSharp.torch;

namespace GenAI.Core.Generation;

/// <summary>
/// A request admitted to the engine: it owns <see cref="RowCount"/> consecutive rows of the KV cache starting at
/// <see cref="FirstRow"/>, turns each step's logits into tokens and writes its events.
/// </summary>
internal abstract class ActiveRequest : IDisposable
{
    private readonly ChannelWriter<GenerationEvent> _events;
    private readonly CancellationToken _cancellation;

    protected ActiveRequest(GenerationRequest request, TextTokenizer tokenizer, IReadOnlyList<int> eosTokenIds, Device device,
        ChannelWriter<GenerationEvent> events, CancellationToken cancellation)
    {
        Request = request;
        Parameters = request.Parameters;
        Tokenizer = tokenizer;
        _events = events;
        _cancellation = cancellation;
        EndTokens = new HashSet<int>(Parameters.StopTokenIds);
        if (!Parameters.IgnoreEos) EndTokens.UnionWith(eosTokenIds);
        Pipeline = new LogitsPipeline(Parameters, EndTokens, device);
    }

    public GenerationRequest Request { get; }

    public SamplingParameters Parameters { get; }

    protected TextTokenizer Tokenizer { get; }

    /// <summary>EOS (unless ignored) and the stop token ids.</summary>
    protected HashSet<int> EndTokens { get; }

    protected LogitsPipeline Pipeline { get; }

    public int FirstRow { get; set; }

    /// <summary>Prompt tokens whose keys and values are in the request's first row (restored from the prefix cache or prefilled).</summary>
    public int Prefilled { get; set; }

    /// <summary>True until the whole prompt is in the cache and the first token is chosen.</summary>
    public bool IsPrefilling => Prefilled < Request.PromptTokens.Count;

    /// <summary>The request's tokens so far (prompt + output) when its first row holds them in order; null otherwise (beam search).</summary>
    public virtual IReadOnlyList<int>? Sequence => null;

    public abstract int RowCount { get; }

    public bool IsCancelled => _cancellation.IsCancellationRequested;

    public bool IsFinished { get; protected set; }

    /// <summary>Tokens generated so far (for metrics).</summary>
    public int GeneratedTokens { get; protected set; }

    /// <summary>What constrained decoding cost this request so far (for metrics and the benchmark).</summary>
    public virtual ConstraintWork ConstraintWork => default;

    /// <summary>True when the plain argmax of each row is this request's token (the engine computes it once for the batch).</summary>
    public bool UsesBatchArgmax => RowCount == 1 && Pipeline.IsPlainGreedy;

    /// <summary>The last token of each row, the input of the next decode step.</summary>
    public abstract IEnumerable<long> NextInputs();

    /// <summary>
    /// Consumes the logits of this request's rows ([rows, vocab]; after the prefill, [1, vocab]) and, for
    /// <see cref="UsesBatchArgmax"/> requests, the batch argmax. Returns the cache rows (relative) to keep, in the
    /// new order, or null when the rows stay as they are.
    /// </summary>
    public abstract int[]? Advance(Tensor logits, long[]? argmax, bool afterPrefill);

    protected void Emit(GenerationEvent e) => _events.TryWrite(e);

    public void Complete(Exception? error = null) => _events.TryComplete(error);

    public virtual void Dispose() => Pipeline.Dispose();
}
