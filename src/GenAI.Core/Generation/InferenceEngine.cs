using System.Runtime.CompilerServices;
using System.Threading.Channels;
using GenAI.Core.Models;
using GenAI.Core.Models.Kernels;
using GenAI.Core.Tokenization;
using static TorchSharp.torch;

namespace GenAI.Core.Generation;

/// <summary>
/// Runs one model for every request sent to it, with continuous batching: a dedicated thread owns the model's
/// tensors; between steps it admits waiting requests into free rows (restoring what the prefix cache holds of their
/// prompts) and drops finished or cancelled ones. Each step is at most two forward passes: a prefill pass over the
/// next chunks of the prompts still being read (several rows of different lengths at once, within a token budget
/// that keeps running streams flowing), then one decode pass over every row that is generating, each request with
/// its own sampling. Requests wait in a bounded queue; each gets its events back as an <see cref="IAsyncEnumerable{T}"/>.
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
    private readonly PrefixCache? _prefixCache;
    private double _decodeSeconds; // running average of a decode step, the unit of the prefill budget
    // Prefill passes of at most SkinnyMatmul.MaxRows tokens run on the decode kernels, larger ones on libtorch's GEMM:
    // two cost structures, learned apart.
    private readonly PrefillCostModel _smallPrefills = new(), _largePrefills = new();
    // Largest GEMM pass allowed while streams generate: libtorch's passes are the least predictable (a 58-token pass the
    // model priced at 60 ms took 1.3 s on a loaded machine), so the size grows by doubling only while passes keep within
    // their time, and falls back on an overrun.
    private int _largePrefillCap = 2 * SkinnyMatmul.MaxRows;
    // Set while prompts that arrived together with nothing generating are prefilled at the full budget, one pass after
    // another without decode steps between them (requests admitted meanwhile join, up to the batch's rows): the first of
    // them to finish its prompt would otherwise start decoding alone and leave the rest to the small passes that protect
    // a running stream, and decode steps of a few rows read the whole weights for a fraction of the batch's tokens.
    private bool _burst;
    private int _queued;
    private ConstraintWork _constraintWork;
    private readonly Lock _constraintWorkGate = new();

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
        // Every EOS ends generation: the model's (one or a list, as Llama 3's), the tokenizer's and any the host adds
        // (generation_config.json's).
        _eosTokenIds = model.Config.EosTokenIds.Concat(Options.EosTokenIds).Concat(tokenizer.EosTokenId is int eos ? [eos] : [])
            .Where(id => id < model.Config.VocabSize).Distinct().ToList();
        // A model may score more ids than its tokenizer has (Qwen pads its vocabulary to 151936 for 151669 tokens):
        // those rows have no text, so they are never generated.
        _textTokens = Math.Min(tokenizer.VocabSize, model.Config.VocabSize);
        ContextLength = Math.Min(Options.MaxSequenceLength ?? model.Config.ContextLength, model.Config.ContextLength);
        _cache = model.CreateKvCache(Options.MaxBatchRows, ContextLength);
        if (Options.PrefixCacheBytes > 0) _prefixCache = new PrefixCache(Options.PrefixCacheBytes, _cache.BytesPerPosition);
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

    /// <summary>Raised on the engine thread after each prefill pass with the prompts it covered and the prompt tokens it read.</summary>
    public event Action<int, int>? PrefillCompleted;

    /// <summary>Prompt tokens the prefix cache supplied, and prompt tokens looked up in it (0 and 0 when it is off).</summary>
    public (long Hit, long Queried) PrefixCacheTokens => _prefixCache is null ? (0, 0) : (_prefixCache.HitTokens, _prefixCache.QueriedTokens);

    /// <summary>Bytes of keys and values the prefix cache holds.</summary>
    public long PrefixCacheBytes => _prefixCache?.Bytes ?? 0;

    /// <summary>Bytes of the KV cache's rows.</summary>
    public long KvCacheBytes => _cache.ByteCount;

    /// <summary>
    /// What constrained decoding cost the requests that have ended (counted when the engine removes them): mask time
    /// per constrained token is its price per token.
    /// </summary>
    public ConstraintWork ConstraintWork
    {
        get
        {
            lock (_constraintWorkGate) return _constraintWork;
        }
    }

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
        if (request.Parameters.Constraint is { } constraint)
        {
            // The tokenizer's index is built here, on the caller's thread, not on the engine's; and a vocabulary that
            // cannot even begin the value (a small character vocabulary without '{') is refused before anything runs.
            constraint.Json.Prepare(_tokenizer);
            try
            {
                constraint.Validate();
            }
            catch (ArgumentException e)
            {
                throw new InvalidGenerationRequestException(constraint.Parameter, e.Message);
            }
            if (!constraint.IsTriggered && constraint.Prefix.Count == 0 && constraint.Json.Start(_tokenizer, []).AllowedTokens().IsEmpty)
            {
                throw new InvalidGenerationRequestException(constraint.Parameter, "this model's vocabulary has no token that can begin the constrained output");
            }
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
                PrefillStep();
                // A burst is prefilled whole before its first decode step: they then decode together from the start.
                if (_burst)
                {
                    Admit();
                    if (_active.Any(a => a.IsPrefilling && !a.IsCancelled)) continue;
                }
                _burst = false;
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

    /// <summary>
    /// Admits queued requests while their rows fit. A request's first row gets what the prefix cache holds of its
    /// prompt; the rest is prefilled by the next steps.
    /// </summary>
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
            for (int r = 0; r < active.RowCount; r++) _cache.Reset(active.FirstRow + r);
            active.Prefilled = _prefixCache?.Restore(active.Request.PromptTokens, _cache, active.FirstRow) ?? 0;
            _active.Add(active);
        }
    }

    /// <summary>
    /// One forward pass over the next chunks of prompts still being prefilled: the first such request and those in
    /// the rows right after it, each row padded to the longest chunk, rows × chunk within the step's token budget.
    /// A request whose prompt is complete chooses its first token from the pass's logits.
    /// </summary>
    private void PrefillStep()
    {
        int start = _active.FindIndex(a => a.IsPrefilling && !a.IsFinished && !a.IsCancelled);
        if (start < 0) return;
        _burst |= !IsGenerating;
        bool generating = !_burst; // a burst's members decoding their first token do not hold its budget down
        double room = PrefillRoom;
        int budget = PrefillBudget(generating, room);
        var group = new List<ActiveRequest> { _active[start] };
        for (int i = start + 1; i < _active.Count && _active[i].IsPrefilling && !_active[i].IsCancelled && group.Count < MaxPrefillRequests; i++) group.Add(_active[i]);
        // The chunk length that moves the most prompt tokens within the budget, over the first k requests of the group.
        int bestCount = 1, bestChunk = 0, bestUseful = -1;
        for (int k = 1; k <= group.Count; k++)
        {
            int rows = group[k - 1].FirstRow + 1 - group[0].FirstRow;
            int chunk = Math.Min(group.Take(k).Max(Remaining), Math.Max(1, budget / rows));
            int useful = group.Take(k).Sum(a => Math.Min(Remaining(a), chunk));
            if (useful > bestUseful) (bestCount, bestChunk, bestUseful) = (k, chunk, useful);
        }
        group.RemoveRange(bestCount, group.Count - bestCount);

        int firstRow = group[0].FirstRow, rowCount = group[^1].FirstRow + 1 - firstRow;
        var ids = new long[rowCount * bestChunk];
        var counts = new int[rowCount];
        foreach (var active in group)
        {
            int row = active.FirstRow - firstRow, count = Math.Min(Remaining(active), bestChunk);
            counts[row] = count;
            var prompt = active.Request.PromptTokens;
            for (int t = 0; t < bestChunk; t++) ids[row * bestChunk + t] = prompt[active.Prefilled + Math.Min(t, count - 1)];
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            using var scope = NewDisposeScope();
            var logits = MaskTextless(_model.Forward(tensor(ids, [rowCount, bestChunk], device: _device), _cache, firstRow, lastPositionOnly: true,
                counts.All(c => c == bestChunk) ? null : counts)[.., 0].cpu());
            foreach (var active in group)
            {
                active.Prefilled += counts[active.FirstRow - firstRow];
                if (!active.IsPrefilling) BeginGenerating(active, logits.narrow(0, active.FirstRow - firstRow, 1));
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            foreach (var active in group)
            {
                active.Complete(new GenerationFailedException($"generation failed: {e.Message}", e));
                active.Dispose();
                _active.Remove(active);
            }
            PackRows();
            return;
        }
        int padded = rowCount * bestChunk;
        double seconds = watch.Elapsed.TotalSeconds;
        (padded <= SkinnyMatmul.MaxRows ? _smallPrefills : _largePrefills).Add(padded, seconds);
        if (generating && padded > SkinnyMatmul.MaxRows && room > 0)
        {
            _largePrefillCap = seconds <= room
                ? Math.Max(_largePrefillCap, Math.Min(2 * padded, Options.MaxPrefillTokensPerStep))
                : Math.Max(2 * SkinnyMatmul.MaxRows, padded / 2);
        }
        PrefillCompleted?.Invoke(group.Count, counts.Sum());
    }

    private static int Remaining(ActiveRequest active) => active.Request.PromptTokens.Count - active.Prefilled;

    // Prompts per prefill pass: beyond a few, one more row only adds padding to a pass that is already full.
    private const int MaxPrefillRequests = 16;

    /// <summary>
    /// Padded prompt tokens one prefill pass may take. With nothing generating, the configured maximum; otherwise as
    /// many as the learned cost of a pass fits in (<see cref="EngineOptions.PrefillLatencyFactor"/> − 1) decode steps'
    /// time, so a running stream's next token waits at most a few of its usual gaps. A large pass (libtorch's GEMM) is
    /// taken when it fits by a model fitted on passes of different sizes (and within <see cref="_largePrefillCap"/>), else a
    /// small one on the decode kernels, at least a few tokens so prompts keep moving.
    /// </summary>
    private int PrefillBudget(bool generating, double room)
    {
        int maximum = Options.MaxPrefillTokensPerStep;
        if (!generating) return maximum;
        int small = Math.Min(maximum, SkinnyMatmul.MaxRows);
        if (_decodeSeconds == 0 || !_smallPrefills.IsKnown) return Math.Min(small, StartingPrefillTokens);
        if (maximum > small && _largePrefills.HasSpread && _largePrefills.TokensWithin(room) is var large && large > small)
        {
            return Math.Min(Math.Min(large, _largePrefillCap), maximum);
        }
        return Math.Clamp(_smallPrefills.TokensWithin(room), Math.Min(small, MinPrefillTokens), small);
    }

    private const int MinPrefillTokens = 4, StartingPrefillTokens = 8;

    private bool IsGenerating => _active.Any(a => !a.IsPrefilling && !a.IsFinished && !a.IsCancelled);

    /// <summary>Seconds a prefill pass may take while streams generate: (factor − 1) decode steps.</summary>
    private double PrefillRoom => (Options.PrefillLatencyFactor - 1) * _decodeSeconds;

    /// <summary>The prompt is in the cache: fill the request's other rows, choose its first token, keep the prompt.</summary>
    private void BeginGenerating(ActiveRequest active, Tensor lastLogits)
    {
        int length = _cache.LengthOf(active.FirstRow);
        if (active.Sequence is not null) _prefixCache?.Store(active.Request.PromptTokens, length, _cache, active.FirstRow);
        for (int r = 1; r < active.RowCount; r++) _cache.CopyRow(active.FirstRow, active.FirstRow + r);
        var rows = active.Advance(lastLogits, null, afterPrefill: true);
        if (rows is not null) _cache.GatherRows(active.FirstRow, rows.Select(r => active.FirstRow + r).ToArray());
    }

    /// <summary>One decode pass over the rows up to the last generating one; prefilling rows ride along with no token.</summary>
    private void DecodeStep()
    {
        var generating = _active.Where(a => !a.IsPrefilling && !a.IsFinished && !a.IsCancelled).ToList();
        if (generating.Count == 0) return;
        int rowCount = generating[^1].FirstRow + generating[^1].RowCount;
        var inputs = new long[rowCount];
        var counts = new int[rowCount];
        foreach (var active in generating)
        {
            int row = active.FirstRow;
            foreach (long token in active.NextInputs())
            {
                inputs[row] = token;
                counts[row++] = 1;
            }
        }
        bool ragged = counts.Any(c => c == 0);
        ActiveRows = counts.Sum();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var logits = _model.Forward(tensor(inputs, [rowCount, 1], device: _device), _cache, 0, lastPositionOnly: true, ragged ? counts : null)[.., 0];
        var cpuLogits = MaskTextless(logits.device_type == TorchSharp.DeviceType.CPU ? logits : logits.cpu());
        long[]? argmax = generating.Any(a => a.UsesBatchArgmax) ? RowArgmax.Compute(cpuLogits) : null;
        foreach (var active in generating)
        {
            var rows = active.Advance(cpuLogits.narrow(0, active.FirstRow, active.RowCount), argmax, afterPrefill: false);
            if (rows is not null) _cache.GatherRows(active.FirstRow, rows.Select(r => active.FirstRow + r).ToArray());
        }
        double seconds = watch.Elapsed.TotalSeconds;
        _decodeSeconds = _decodeSeconds == 0 ? seconds : 0.8 * _decodeSeconds + 0.2 * seconds;
        StepCompleted?.Invoke(ActiveRows);
    }

    private Tensor MaskTextless(Tensor logits)
    {
        long vocab = logits.shape[^1];
        if (_textTokens < vocab) logits.narrow(-1, _textTokens, vocab - _textTokens).fill_(float.NegativeInfinity);
        return logits;
    }

    /// <summary>
    /// Completes finished and cancelled requests (a finished one leaves its sequence to the prefix cache) and packs
    /// the remaining rows to the front of the cache.
    /// </summary>
    private void RemoveFinished()
    {
        bool removed = false;
        for (int i = _active.Count - 1; i >= 0; i--)
        {
            var active = _active[i];
            if (!active.IsFinished && !active.IsCancelled) continue;
            if (active.IsFinished && active.Sequence is { } sequence && _prefixCache is not null)
            {
                _prefixCache.Store(sequence, _cache.LengthOf(active.FirstRow), _cache, active.FirstRow);
            }
            if (active.ConstraintWork is { Tokens: > 0 } work)
            {
                lock (_constraintWorkGate) _constraintWork += work;
            }
            active.Complete();
            active.Dispose();
            _active.RemoveAt(i);
            removed = true;
        }
        if (removed) PackRows();
    }

    private void PackRows()
    {
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
        _prefixCache?.Dispose();
        _cache.Dispose();
        _stop.Dispose();
    }
}
