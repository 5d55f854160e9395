using System.Runtime.CompilerServices;
using System.Threading.Channels;
using GenAI.Core.Models;
using GenAI.Core.Tokenization;
using static TorchSharp.torch;

namespace GenAI.Core.Generation;

/// <summary>
/// Runs one model for every request sent to it, with continuous batching: a dedicated thread owns the model's
/// tensors; between decode steps it admits waiting requests (prefill) and drops finished or cancelled ones, and
/// each step is one forward pass over every live row, each request with its own sampling. Requests wait in a
/// bounded queue; each gets its events back as an <see cref="IAsyncEnumerable{T}"/>.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly CausalLanguageModel _model;
    private readonly TextTokenizer _tokenizer;
    private readonly IReadOnlyList<int> _eosTokenIds;
    private readonly Channel<Pending> _queue;
    private readonly List<ActiveRequest> _active = [];
    private readonly Thread _thread;
    private readonly CancellationTokenSource _stop = new();
    private readonly KvCache _cache;
    private readonly Device _device;
    private readonly int _textTokens;
    private int _queued;

    private sealed record Pending(GenerationRequest Request, Channel<GenerationEvent> Events, CancellationToken Cancellation);

    /// <summary>Starts the engine's thread for <paramref name="model"/> (which the caller keeps owning).</summary>
    public InferenceEngine(CausalLanguageModel model, TextTokenizer tokenizer, EngineOptions? options = null, string? name = null)
    {
        Options = options ?? new EngineOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxBatchRows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxQueuedRequests, 1);
        _model = model;
        _device = model.Device;
        _tokenizer = tokenizer;
        // Every EOS ends generation: the model's (one or a list, as Llama 3's) and the tokenizer's.
        _eosTokenIds = model.Config.EosTokenIds.Concat(tokenizer.EosTokenId is int eos ? [eos] : []).Distinct().ToList();
        // A model may score more ids than its tokenizer has (Qwen pads its vocabulary to 151936 for 151669 tokens):
        // those rows have no text, so they are never generated.
        _textTokens = Math.Min(tokenizer.VocabSize, model.Config.VocabSize);
        ContextLength = Math.Min(Options.MaxSequenceLength ?? model.Config.ContextLength, model.Config.ContextLength);
        _cache = model.CreateKvCache(Options.MaxBatchRows, ContextLength);
        _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
        _thread = new Thread(Run) { IsBackground = true, Name = "genai-engine" + (name is null ? "" : "-" + name) };
        _thread.Start();
    }

    /// <summary>The engine's limits.</summary>
    public EngineOptions Options { get; }

    /// <summary>Longest prompt + output a request may have.</summary>
    public int ContextLength { get; }

    /// <summary>Requests waiting for rows.</summary>
    public int QueueDepth => Volatile.Read(ref _queued);

    /// <summary>Rows decoded in the latest step.</summary>
    public int ActiveRows { get; private set; }

    /// <summary>Raised on the engine thread after each decode step with the number of rows it covered.</summary>
    public event Action<int>? StepCompleted;

    /// <summary>
    /// Validates and queues a request; the events stream as the engine produces them. Throws
    /// <see cref="InvalidGenerationRequestException"/> for a request that cannot run and <see cref="EngineBusyException"/>
    /// when the queue is full — both before anything is queued. Cancelling <paramref name="cancellation"/> (or
    /// abandoning the enumeration) frees the request's rows at the next step.
    /// </summary>
    public IAsyncEnumerable<GenerationEvent> Submit(GenerationRequest request, CancellationToken cancellation = default)
    {
        Validate(request);
        if (Interlocked.Increment(ref _queued) > Options.MaxQueuedRequests)
        {
            Interlocked.Decrement(ref _queued);
            throw new EngineBusyException($"the engine's queue is full ({Options.MaxQueuedRequests} requests waiting); retry shortly");
        }
        var events = Channel.CreateUnbounded<GenerationEvent>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });
        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        if (!_queue.Writer.TryWrite(new Pending(request, events, linked.Token)))
        {
            Interlocked.Decrement(ref _queued);
            linked.Dispose();
            throw new ObjectDisposedException(nameof(InferenceEngine));
        }
        return Read(events.Reader, linked);
    }

    /// <summary>Checks a request against the model and the engine's limits without queuing it.</summary>
    public void Validate(GenerationRequest request)
    {
        request.Parameters.Validate(_model.Config.VocabSize, ContextLength, request.PromptTokens.Count, Options.MaxBatchRows);
        int vocab = _model.Config.VocabSize;
        for (int i = 0; i < request.PromptTokens.Count; i++)
        {
            int token = request.PromptTokens[i];
            if (token < 0 || token >= vocab) throw new InvalidGenerationRequestException("prompt", $"prompt token {i} is {token}, outside this model's vocabulary [0, {vocab})");
        }
    }

    private static async IAsyncEnumerable<GenerationEvent> Read(ChannelReader<GenerationEvent> reader, CancellationTokenSource linked,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        using var registration = cancellation.Register(linked.Cancel);
        try
        {
            await foreach (var e in reader.ReadAllAsync(linked.Token).ConfigureAwait(false)) yield return e;
        }
        finally
        {
            // Reached on completion, on cancellation and when the caller stops enumerating: the engine frees the rows.
            linked.Cancel();
            linked.Dispose();
        }
    }

    private void Run()
    {
        using var inference = inference_mode();
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                RemoveFinished();
                Admit();
                if (_active.Count == 0)
                {
                    WaitForWork();
                    continue;
                }
                DecodeStep();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                FailAll(e);
            }
        }
        FailAll(new ObjectDisposedException(nameof(InferenceEngine)));
        while (_queue.Reader.TryRead(out var pending)) pending.Events.Writer.TryComplete(new ObjectDisposedException(nameof(InferenceEngine)));
    }

    private void WaitForWork()
    {
        try
        {
            _queue.Reader.WaitToReadAsync(_stop.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private int UsedRows => _active.Count == 0 ? 0 : _active[^1].FirstRow + _active[^1].RowCount;

    /// <summary>Admits queued requests while their rows fit, prefilling each and producing its first token.</summary>
    private void Admit()
    {
        while (_queue.Reader.TryPeek(out var pending))
        {
            if (pending.Cancellation.IsCancellationRequested)
            {
                _queue.Reader.TryRead(out _);
                Interlocked.Decrement(ref _queued);
                pending.Events.Writer.TryComplete();
                continue;
            }
            int rows = pending.Request.Parameters.NumBeams;
            if (UsedRows + rows > Options.MaxBatchRows) return;
            _queue.Reader.TryRead(out _);
            Interlocked.Decrement(ref _queued);

            ActiveRequest active = rows > 1
                ? new BeamSearchRequest(pending.Request, _tokenizer, _eosTokenIds, _device, pending.Events.Writer, pending.Cancellation)
                : new SamplingSequence(pending.Request, _tokenizer, _eosTokenIds, _device, pending.Events.Writer, pending.Cancellation);
            active.FirstRow = UsedRows;
            try
            {
                Prefill(active);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                active.Complete(new GenerationFailedException($"generation failed: {e.Message}", e));
                active.Dispose();
                continue;
            }
            if (active.IsFinished)
            {
                active.Complete();
                active.Dispose();
            }
            else
            {
                _active.Add(active);
            }
        }
    }

    private void Prefill(ActiveRequest active)
    {
        using var scope = NewDisposeScope();
        for (int r = 0; r < active.RowCount; r++) _cache.Reset(active.FirstRow + r);
        var prompt = active.Request.PromptTokens.Select(t => (long)t).ToArray();
        var logits = _model.Forward(tensor(prompt, [1, prompt.Length], device: _device), _cache, active.FirstRow, lastPositionOnly: true);
        for (int r = 1; r < active.RowCount; r++) _cache.CopyRow(active.FirstRow, active.FirstRow + r);
        var rows = active.Advance(MaskTextless(logits[.., 0].cpu()), null, afterPrefill: true);
        if (rows is not null) _cache.GatherRows(active.FirstRow, rows.Select(r => active.FirstRow + r).ToArray());
    }

    private void DecodeStep()
    {
        using var scope = NewDisposeScope();
        var inputs = _active.SelectMany(a => a.NextInputs()).ToArray();
        int batch = inputs.Length;
        ActiveRows = batch;
        var logits = _model.Forward(tensor(inputs, [batch, 1], device: _device), _cache, 0, lastPositionOnly: true)[.., 0];
        var cpuLogits = MaskTextless(logits.device_type == TorchSharp.DeviceType.CPU ? logits : logits.cpu());
        long[]? argmax = _active.Any(a => a.UsesBatchArgmax) ? cpuLogits.argmax(1).data<long>().ToArray() : null;
        foreach (var active in _active)
        {
            if (active.IsCancelled) continue;
            var rows = active.Advance(cpuLogits.narrow(0, active.FirstRow, active.RowCount), argmax, afterPrefill: false);
            if (rows is not null) _cache.GatherRows(active.FirstRow, rows.Select(r => active.FirstRow + r).ToArray());
        }
        StepCompleted?.Invoke(batch);
    }

    private Tensor MaskTextless(Tensor logits)
    {
        long vocab = logits.shape[^1];
        if (_textTokens < vocab) logits.narrow(-1, _textTokens, vocab - _textTokens).fill_(float.NegativeInfinity);
        return logits;
    }

    /// <summary>Completes finished and cancelled requests and packs the remaining rows to the front of the cache.</summary>
    private void RemoveFinished()
    {
        bool removed = false;
        for (int i = _active.Count - 1; i >= 0; i--)
        {
            var active = _active[i];
            if (!active.IsFinished && !active.IsCancelled) continue;
            active.Complete();
            active.Dispose();
            _active.RemoveAt(i);
            removed = true;
        }
        if (!removed) return;
        int next = 0;
        foreach (var active in _active)
        {
            if (active.FirstRow != next)
            {
                for (int r = 0; r < active.RowCount; r++) _cache.CopyRow(active.FirstRow + r, next + r);
                active.FirstRow = next;
            }
            next += active.RowCount;
        }
        ActiveRows = next;
    }

    private void FailAll(Exception error)
    {
        var failure = error as ObjectDisposedException ?? (Exception)new GenerationFailedException($"generation failed: {error.Message}", error);
        foreach (var active in _active)
        {
            active.Complete(failure);
            active.Dispose();
        }
        _active.Clear();
    }

    /// <summary>Stops the thread; requests still running or queued end with an error.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _stop.Cancel();
        _thread.Join();
        _cache.Dispose();
        _stop.Dispose();
    }
}
