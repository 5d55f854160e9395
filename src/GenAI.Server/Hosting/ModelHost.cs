using System.Collections.Concurrent;
using GenAI.Core.Checkpoints;
using GenAI.Core.Generation;
using GenAI.Core.Models;
using GenAI.Core.Models.Quantization;
using GenAI.Core.Tokenization;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace GenAI.Server.Hosting;

/// <summary>
/// Serves every model given with <c>--model</c> and every model under the models root, and keeps them current:
/// a new revision (a changed <c>current</c> pointer, see <see cref="ModelRepository"/>) or a new model folder is
/// loaded and checked off to the side, then swapped in; requests already running finish on the revision they
/// started with. A revision that fails to load or to pass <see cref="ModelCheck"/> is rejected with its reason
/// (logged and listed by <c>GET /v1/models</c>) and the previous one keeps serving.
/// </summary>
public sealed class ModelHost(IOptions<ServerOptions> options, ILogger<ModelHost> logger) : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<string, ModelSlot> _slots = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private readonly CancellationTokenSource _stopping = new();
    private Task _loading = Task.CompletedTask;
    private Task _watching = Task.CompletedTask;
    private bool _disposed;

    /// <summary>Raised (on a loader thread) when a model revision starts being served.</summary>
    public event Action<ServedModel>? ModelLoaded;

    /// <summary>True once start-up loading finished and at least one model is served.</summary>
    public bool IsReady => _loading.IsCompleted && _slots.Values.Any(s => s.Current is not null);

    /// <summary>True while start-up loading is under way.</summary>
    public bool IsLoading => !_loading.IsCompleted;

    /// <summary>Models with no revision serving, by id, with the reason.</summary>
    public IReadOnlyDictionary<string, string> LoadErrors =>
        _slots.Values.Where(s => s.Current is null && s.Error is not null).ToDictionary(s => s.Id, s => s.Error!);

    /// <summary>Every model the host knows, served or not, in order (given models first, then the root's).</summary>
    public IReadOnlyList<ModelSlot> Slots
    {
        get
        {
            lock (_order) return _order.Select(id => _slots[id]).ToList();
        }
    }

    /// <summary>The revisions serving now, in order.</summary>
    public IReadOnlyList<ServedModel> Models => Slots.Select(s => s.Current).OfType<ServedModel>().ToList();

    /// <summary>The revision serving <paramref name="id"/> now; with no id, the first model's.</summary>
    public ServedModel? Find(string? id) =>
        string.IsNullOrEmpty(id) ? Models.FirstOrDefault() : _slots.GetValueOrDefault(id)?.Current;

    /// <summary>
    /// A lease on the newest revision of <paramref name="id"/> (the first model with no id). A revision published but
    /// not yet picked up by the watcher is loaded first, so a request that starts after a publish completed runs on it;
    /// a model folder that just appeared under the root is loaded too. Null when there is no such model or it has no
    /// revision serving.
    /// </summary>
    public async Task<ModelLease?> AcquireAsync(string? id, CancellationToken cancellation)
    {
        ModelSlot? slot = string.IsNullOrEmpty(id) ? Slots.FirstOrDefault(s => s.Current is not null) : _slots.GetValueOrDefault(id);
        if (slot is null && !IsLoading && ModelRepository.IsValidName(id) && Directory.Exists(RootFolder))
        {
            string folder = Path.Combine(RootFolder, id!);
            if (ModelRepository.IsModelFolder(folder)) slot = AddSlot(id!, folder);
        }
        if (slot is null) return null;
        if (!IsLoading) await RefreshAsync(slot, cancellation).ConfigureAwait(false);
        while (true)
        {
            var current = slot.Current;
            if (current is null) return null;
            if (current.TryAcquire() is { } lease) return lease;
            // Retired between the read and the lease: the newer revision is in place now.
            await Task.Yield();
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loading = Task.Run(StartLoadingAsync, CancellationToken.None);
        _watching = Task.Run(WatchAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Completes when start-up loading has finished (tests and tools wait on it).</summary>
    public Task WaitUntilLoadedAsync() => _loading;

    /// <summary>Looks for new models and revisions now (the watcher does this every <see cref="ServerOptions.ModelsPollSeconds"/>).</summary>
    public async Task RefreshAllAsync(CancellationToken cancellation)
    {
        foreach (var (id, folder) in DiscoverFolders())
        {
            if (!_slots.ContainsKey(id)) AddSlot(id, folder);
        }
        foreach (var slot in Slots) await RefreshAsync(slot, cancellation).ConfigureAwait(false);
    }

    private async Task StartLoadingAsync()
    {
        await RefreshAllAsync(_stopping.Token).ConfigureAwait(false);
        if (_slots.IsEmpty) logger.LogError("No model to serve: give --model PATH or put model folders under {Root}", RootFolder);
    }

    /// <summary>Why nothing is served, for <c>/health/ready</c>.</summary>
    public string NotReadyReason => IsLoading ? "models are still loading"
        : _slots.IsEmpty ? $"no model to serve: give --model PATH or put model folders under {RootFolder}"
        : "no model is loaded: " + string.Join("; ", LoadErrors.Select(e => $"{e.Key}: {e.Value}"));

    private string RootFolder => ServerPaths.Resolve(options.Value.ModelsRoot);

    private async Task WatchAsync()
    {
        int seconds = options.Value.ModelsPollSeconds;
        if (seconds <= 0) return;
        try
        {
            await _loading.WaitAsync(_stopping.Token).ConfigureAwait(false);
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await RefreshAllAsync(_stopping.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Looking for new model revisions failed: {Reason}", e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Loads the slot's current revision when it is not the one serving (and not one already rejected).</summary>
    private async Task RefreshAsync(ModelSlot slot, CancellationToken cancellation)
    {
        if (!NeedsLoad(slot, out _)) return;
        await slot.LoadLock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            if (!NeedsLoad(slot, out var location) || location is null) return;
            // Loading blocks on file reads and libtorch: keep it off the request's thread-pool thread.
            await Task.Factory.StartNew(() => Load(slot, location), cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        finally
        {
            slot.LoadLock.Release();
        }
    }

    private bool NeedsLoad(ModelSlot slot, out ModelLocation? location)
    {
        location = null;
        try
        {
            location = ModelRepository.Locate(slot.Folder);
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException)
        {
            slot.Error ??= e.Message;
            return false;
        }
        if (location is null)
        {
            if (slot.Current is null) slot.Error = $"{slot.Folder} is not a model folder (no {ModelConfig.FileName}, no {ModelRepository.CurrentPointer})";
            return false;
        }
        if (slot.Current is { } current)
        {
            // A plain folder loads once; a folder with revisions reloads when its pointer moves.
            if (location.Revision is null || current.Revision == location.Revision) return false;
        }
        return location.Revision is null ? slot.FailedFolder != FolderFingerprint(location.Folder) : !slot.Rejected.ContainsKey(location.Revision);
    }

    private void Load(ModelSlot slot, ModelLocation location)
    {
        var started = DateTime.UtcNow;
        try
        {
            var served = LoadRevision(slot.Id, location);
            var previous = slot.Current;
            try
            {
                ModelLoaded?.Invoke(served); // before the swap: a throwing handler rejects the revision, which then never serves
            }
            catch
            {
                served.Dispose();
                throw;
            }
            slot.Current = served;
            slot.Error = null;
            logger.LogInformation("Serving model {Model} revision {Revision} from {Folder}: {Parameters:N0} parameters, {DType} on {Device}, weights {Quantization} ({WeightMB:N0} MB), context {Context} ({Seconds:F1} s){Replaced}",
                slot.Id, served.Revision, location.Folder, served.Model.ParameterCount, served.Model.DType, served.Device,
                served.Model.Quantization == WeightQuantization.Int8 ? "int8" : "unquantized", served.Model.WeightBytes / 1e6, served.ContextLength,
                (DateTime.UtcNow - started).TotalSeconds, previous is null ? "" : $"; revision {previous.Revision} finishes its {previous.Leases} running requests");
            previous?.Retire();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (location.Revision is null) slot.FailedFolder = FolderFingerprint(location.Folder);
            else slot.Rejected[location.Revision] = e.Message;
            if (slot.Current is null) slot.Error = e.Message;
            if (slot.Current is null)
            {
                logger.LogError(e, "Model {Model} from {Folder} failed to load: {Reason}", slot.Id, location.Folder, e.Message);
            }
            else
            {
                logger.LogError(e, "Model {Model}: revision {Revision} rejected, revision {Serving} keeps serving: {Reason}",
                    slot.Id, location.Revision, slot.Current.Revision, e.Message);
            }
        }
    }

    /// <summary>Names, sizes and times of a folder's files: a plain folder that failed is tried again once it changes (a copy that was still under way).</summary>
    private static string FolderFingerprint(string folder)
    {
        try
        {
            return string.Join('|', new DirectoryInfo(folder).EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => $"{f.Name}:{f.Length}:{f.LastWriteTimeUtc.Ticks}"));
        }
        catch (IOException)
        {
            return "";
        }
    }

    private ModelSlot AddSlot(string id, string folder)
    {
        var slot = _slots.GetOrAdd(id, _ => new ModelSlot(id, folder));
        lock (_order)
        {
            if (!_order.Contains(id)) _order.Add(id);
        }
        return slot;
    }

    /// <summary>The given models (ids from their folder names), then the models under the root not given already.</summary>
    private IEnumerable<(string Id, string Folder)> DiscoverFolders()
    {
        var o = options.Value;
        var given = o.Models.Where(m => !string.IsNullOrWhiteSpace(m)).Select(ServerPaths.Resolve).ToList(); // an empty setting means none
        var seenIds = new HashSet<string>(_slots.Keys, StringComparer.Ordinal);
        var seenFolders = new HashSet<string>(_slots.Values.Select(s => s.Folder), StringComparer.Ordinal);
        var root = new ModelRepository(RootFolder);
        var all = given.Concat(root.ModelNames().Select(root.ModelFolder));
        foreach (string folder in all)
        {
            if (!seenFolders.Add(folder)) continue;
            string id = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
            if (!seenIds.Add(id)) id = $"{id}-{seenIds.Count}";
            seenIds.Add(id);
            yield return (id, folder);
        }
    }

    private ServedModel LoadRevision(string id, ModelLocation location)
    {
        var o = options.Value;
        var dtype = o.DType switch
        {
            "bfloat16" => torch.ScalarType.BFloat16,
            "float16" => torch.ScalarType.Float16,
            _ => torch.ScalarType.Float32,
        };
        var quantize = o.Quantize == "int8" ? WeightQuantization.Int8 : WeightQuantization.None;
        string folder = location.Folder;
        var model = ModelLoader.Load(folder, new ModelLoadOptions { Device = o.Device, DType = dtype, Quantize = quantize });
        InferenceEngine? engine = null;
        try
        {
            var tokenizer = TokenizerLoader.Load(folder);
            ModelCheck.Check(model, tokenizer, folder);
            var chatTemplate = ChatTemplate.Load(folder, tokenizer);
            var defaults = GenerationDefaults.Load(folder);
            // Everything that can refuse the folder comes first: the engine starts a thread.
            engine = new InferenceEngine(model, tokenizer, new EngineOptions
            {
                MaxBatchRows = o.MaxConcurrentSequences,
                MaxQueuedRequests = o.MaxQueuedRequests,
                MaxSequenceLength = o.MaxSequenceLength ?? ServerOptions.DefaultMaxSequenceLength,
                MaxPrefillTokensPerStep = o.MaxPrefillTokensPerStep,
                PrefixCacheBytes = (long)o.PrefixCacheMiB << 20,
                EosTokenIds = defaults.EosTokenIds,
            }, id);
            return new ServedModel(id, folder, location.Revision, model, tokenizer, chatTemplate, defaults, engine, model.Device.ToString());
        }
        catch
        {
            engine?.Dispose();
            model.Dispose();
            throw;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_loading, _watching).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stopping.Cancel();
        foreach (var slot in _slots.Values) slot.Current?.Dispose();
        _slots.Clear();
    }
}

/// <summary>One model name the host serves: where it comes from, the revision serving now, the revisions it refused.</summary>
public sealed class ModelSlot(string id, string folder)
{
    private volatile ServedModel? _current;

    public string Id { get; } = id;

    /// <summary>The model folder (plain Hugging Face layout, or revisions with a current pointer).</summary>
    public string Folder { get; } = folder;

    /// <summary>The revision serving now.</summary>
    public ServedModel? Current
    {
        get => _current;
        internal set => _current = value;
    }

    /// <summary>Why the model has no revision serving, when it has none.</summary>
    public string? Error { get; internal set; }

    /// <summary>Revisions that failed to load or check, with the reason; they are not tried again.</summary>
    public ConcurrentDictionary<string, string> Rejected { get; } = new(StringComparer.Ordinal);

    /// <summary>The fingerprint of a plain folder that failed to load; it is tried again when its files change.</summary>
    internal string? FailedFolder { get; set; }

    internal SemaphoreSlim LoadLock { get; } = new(1, 1);
}
