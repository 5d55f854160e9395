using GenAI.Core.Models.Layers;
using GenAI.Core.Models.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models;

/// <summary>
/// A decoder-only language model: token ids in, next-token logits out, with an optional <see cref="KvCache"/>
/// for incremental decoding. Parameter names are the Hugging Face checkpoint names (without a
/// <c>transformer.</c>/<c>model.</c> prefix), so loading and saving map one to one.
/// </summary>
public abstract class CausalLanguageModel : nn.Module
{
    private Q8_0Weight? _tiedHead;

    /// <summary>Creates the module.</summary>
    protected CausalLanguageModel(string name, ModelConfig config) : base(name) => Config = config;

    /// <summary>The config the model was built from.</summary>
    public ModelConfig Config { get; }

    /// <summary>The device the parameters live on.</summary>
    public Device Device => parameters().First().device;

    /// <summary>The dtype of the parameters (the compute dtype).</summary>
    public ScalarType DType => parameters().First().dtype;

    /// <summary>Number of parameters (tied weights counted once; quantized weights count as the values they hold).</summary>
    public long ParameterCount =>
        parameters().Sum(p => p.numel()) + QuantizedLayers().Sum(q => (long)q.OutFeatures * q.InFeatures);

    /// <summary>How the linear layers' weights are kept (<see cref="Quantize"/>).</summary>
    public WeightQuantization Quantization { get; private set; }

    /// <summary>Bytes the weights occupy: the float parameters, the int8 weights and their scales, a tied head's int8 copy.</summary>
    public long WeightBytes =>
        parameters().Sum(p => p.numel() * p.ElementSize) + QuantizedLayers().Sum(q => q.Bytes) + (_tiedHead?.Bytes ?? 0);

    /// <summary>
    /// Quantizes every linear layer's weight and the LM head to int8 (<see cref="WeightQuantization.Int8"/>) and frees
    /// their float weights; a head tied to the token embedding gets a quantized copy, and the lookup keeps the float table.
    /// Layers already quantized stay as they are. The model is for inference from then on: a forward pass with autograd
    /// enabled throws, and it cannot be saved.
    /// </summary>
    public void Quantize()
    {
        if (Device.type != DeviceType.CPU)
        {
            throw new InvalidOperationException($"int8 weights are computed on the CPU; this model is on {Device}");
        }
        foreach (var layer in LinearLayers()) layer.Quantize();
        if (OutputLayer is null) _tiedHead ??= Q8_0Weight.Quantize(TokenEmbeddingWeight);
        Quantization = WeightQuantization.Int8;
    }

    /// <summary>
    /// Runs the model. <paramref name="inputIds"/> is [batch, tokens] (int64, on the model's device).
    /// Without a cache the tokens sit at positions 0..tokens-1 under a causal mask (training, full recomputation).
    /// With a cache, batch row b uses cache row <paramref name="firstRow"/>+b: its tokens continue that row's
    /// sequence, and their keys and values are appended to it; <paramref name="tokensPerRow"/> says how many of each
    /// row's tokens are real when rows differ (the rest is padding). Returns float32 logits [batch, tokens, vocab],
    /// or [batch, 1, vocab] for each row's last real position only.
    /// </summary>
    public Tensor Forward(Tensor inputIds, KvCache? cache = null, int firstRow = 0, bool lastPositionOnly = false, IReadOnlyList<int>? tokensPerRow = null)
    {
        if (inputIds.dim() != 2 || inputIds.size(1) < 1)
        {
            throw new ArgumentException($"input ids must be [batch, tokens] with tokens >= 1, not [{string.Join(", ", inputIds.shape)}]", nameof(inputIds));
        }
        if (tokensPerRow is not null && cache is null) throw new ArgumentException("rows of different lengths need a cache", nameof(tokensPerRow));
        int batch = (int)inputIds.size(0), tokens = (int)inputIds.size(1);
        using var scope = NewDisposeScope();
        var step = cache?.BeginStep(firstRow, batch, tokens, tokensPerRow);
        var hidden = HiddenStates(inputIds, cache, step);
        if (lastPositionOnly && tokens > 1)
        {
            if (step is { IsRagged: true })
            {
                long width = hidden.size(2);
                var last = tensor(step.TokensPerRow.Select(n => (long)Math.Max(n - 1, 0)).ToArray(), device: hidden.device);
                hidden = hidden.gather(1, last.view(batch, 1, 1).expand(batch, 1, width));
            }
            else
            {
                hidden = hidden.narrow(1, tokens - 1, 1);
            }
        }
        var logits = OutputLayer?.Apply(hidden)
                     ?? (_tiedHead is not null ? LinearLayer.Project(hidden, _tiedHead) : LinearLayer.Project(hidden, TokenEmbeddingWeight));
        if (logits.dtype != ScalarType.Float32) logits = logits.to(ScalarType.Float32);
        if (step is not null) cache!.Commit(step);
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The final (normalized) hidden states [batch, tokens, hidden] of <paramref name="inputIds"/>; with a cache, the
    /// layers write their keys and values through <paramref name="step"/>, and <see cref="Forward"/> commits it.
    /// </summary>
    protected abstract Tensor HiddenStates(Tensor inputIds, KvCache? cache, KvCacheStep? step);

    /// <summary>
    /// Runs <paramref name="x"/> through <paramref name="layers"/>, each in its own dispose scope: a layer's temporaries
    /// are freed when it is done (autograd keeps what backward needs), not when the whole forward pass is — a 512-token
    /// prefill of a 32-layer model otherwise holds every layer's activations (GBs) until its end, and the ones under
    /// glibc's mmap threshold stay in the heap afterwards. Only the running activation is kept between layers.
    /// </summary>
    protected static Tensor ApplyLayers<TLayer>(IEnumerable<TLayer> layers, Tensor x, Func<TLayer, Tensor, Tensor> apply)
    {
        Tensor? previous = null;
        foreach (var layer in layers)
        {
            Tensor next;
            using (NewDisposeScope()) next = apply(layer, x).MoveToOuterDisposeScope();
            previous?.Dispose();
            previous = next;
            x = next;
        }
        return x;
    }

    /// <summary>The LM head (<c>lm_head</c>), or null when it is tied to the token embedding.</summary>
    protected abstract LinearLayer? OutputLayer { get; }

    /// <summary>The token embedding table [vocab, hidden]: the LM head's weight when tied.</summary>
    protected abstract Tensor TokenEmbeddingWeight { get; }

    /// <summary>A cache for up to <paramref name="maxBatch"/> sequences of up to <paramref name="maxSequenceLength"/> tokens.</summary>
    public abstract KvCache CreateKvCache(int maxBatch, int maxSequenceLength);

    /// <summary>Fills the parameters with the architecture's initialization for training from scratch.</summary>
    public abstract void InitializeWeights(long seed);

    /// <summary>
    /// The checkpoint tensor names under which a parameter may be stored, preferred first
    /// (e.g. <c>h.0.ln_1.weight</c> and <c>transformer.h.0.ln_1.weight</c>).
    /// </summary>
    public abstract IEnumerable<string> CheckpointNames(string parameterName);

    /// <summary>
    /// True when the checkpoint stores this parameter transposed (GPT-2's Conv1D keeps [in, out]; the module uses
    /// nn.Linear's [out, in], which the decode kernels stream row by row).
    /// </summary>
    public virtual bool IsStoredTransposed(string parameterName) => false;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _tiedHead?.Dispose();
            _tiedHead = null;
        }
        base.Dispose(disposing);
    }

    /// <summary>Every linear layer once (TorchSharp also lists a module under the names of the fields that hold it).</summary>
    internal IEnumerable<LinearLayer> LinearLayers() => named_modules().Select(m => m.module).OfType<LinearLayer>().Distinct();

    private IEnumerable<Q8_0Weight> QuantizedLayers() => LinearLayers().Select(l => l.QuantizedWeight).OfType<Q8_0Weight>();
}
