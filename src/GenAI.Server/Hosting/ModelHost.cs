using System.Collections.Concurrent;
using GenAI.Core.Generation;
using GenAI.Core.Models;
using GenAI.Core.Tokenization;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace GenAI.Server.Hosting;

/// <summary>
/// Loads the configured models in the background at start-up (so <c>/health</c> answers at once and
/// <c>/health/ready</c> says when they are in) and owns them until shutdown. A model that fails to load is
/// reported (log and <see cref="LoadErrors"/>) and the others are served.
/// </summary>
public sealed class ModelHost(IOptions<ServerOptions> options, ILogger<ModelHost> logger) : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<string, ServedModel> _models = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _errors = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private Task _loading = Task.CompletedTask;

    /// <summary>Raised (on a loader thread) when a model starts being served.</summary>
    public event Action<ServedModel>? ModelLoaded;

    /// <summary>True once loading finished and at least one model is served.</summary>
    public bool IsReady => _loading.IsCompleted && !_models.IsEmpty;

    /// <summary>True while models are still loading.</summary>
    public bool IsLoading => !_loading.IsCompleted;

    /// <summary>Models that failed to load, by id, with the reason.</summary>
    public IReadOnlyDictionary<string, string> LoadErrors => _errors;

    /// <summary>The served models in configuration order.</summary>
    public IReadOnlyList<ServedModel> Models
    {
        get
        {
            lock (_order) return _order.Where(_models.ContainsKey).Select(id => _models[id]).ToList();
        }
    }

    /// <summary>The model with this id; with no id, the first model.</summary>
    public ServedModel? Find(string? id) =>
        string.IsNullOrEmpty(id) ? Models.FirstOrDefault() : _models.GetValueOrDefault(id);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loading = Task.Run(LoadAll, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Completes when start-up loading has finished (tests and tools wait on it).</summary>
    public Task WaitUntilLoadedAsync() => _loading;

    private void LoadAll()
    {
        foreach (var (id, folder) in ResolveFolders())
        {
            lock (_order) _order.Add(id);
            try
            {
                var started = DateTime.UtcNow;
                var served = Load(id, folder);
                _models[id] = served;
                ModelLoaded?.Invoke(served);
                logger.LogInformation("Serving model {Model} revision {Revision} from {Folder}: {Parameters:N0} parameters, {DType} on {Device}, context {Context} ({Seconds:F1} s)",
                    id, served.Revision, folder, served.Model.ParameterCount, served.Model.DType, served.Device, served.ContextLength, (DateTime.UtcNow - started).TotalSeconds);
            }
            catch (Exception e)
            {
                _errors[id] = e.Message;
                logger.LogError(e, "Model {Model} from {Folder} failed to load: {Reason}", id, folder, e.Message);
            }
        }
        if (_order.Count == 0)
        {
            _errors["(none)"] = $"no model to serve: give --model PATH or put model folders under {options.Value.ModelsRoot}";
            logger.LogError("No model to serve: give --model PATH or put model folders under {Root}", options.Value.ModelsRoot);
        }
    }

    private IEnumerable<(string Id, string Folder)> ResolveFolders()
    {
        var o = options.Value;
        var given = o.Models.Where(m => !string.IsNullOrWhiteSpace(m)).ToList(); // an empty setting means none
        var folders = given.Count > 0
            ? given.Select(Resolve)
            : Directory.Exists(Resolve(o.ModelsRoot))
                ? Directory.EnumerateDirectories(Resolve(o.ModelsRoot)).Where(d => File.Exists(Path.Combine(d, ModelConfig.FileName))).Order()
                : [];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string folder in folders)
        {
            string id = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
            if (!seen.Add(id)) id = $"{id}-{seen.Count}";
            yield return (id, folder);
        }
    }

    /// <summary>Relative paths are taken from the working directory, as a user typing them expects.</summary>
    private static string Resolve(string path) => Path.GetFullPath(path, Environment.CurrentDirectory);

    private ServedModel Load(string id, string folder)
    {
        var o = options.Value;
        var dtype = o.DType switch
        {
            "bfloat16" => torch.ScalarType.BFloat16,
            "float16" => torch.ScalarType.Float16,
            _ => torch.ScalarType.Float32,
        };
        var model = ModelLoader.Load(folder, new ModelLoadOptions { Device = o.Device, DType = dtype });
        try
        {
            var tokenizer = TokenizerLoader.Load(folder);
            if (tokenizer.VocabSize > model.Config.VocabSize)
            {
                throw new InvalidDataException($"{folder}: the tokenizer has {tokenizer.VocabSize} tokens but the model scores only {model.Config.VocabSize}");
            }
            var defaults = GenerationDefaults.Load(folder);
            var engine = new InferenceEngine(model, tokenizer, new EngineOptions
            {
                MaxBatchRows = o.MaxConcurrentSequences,
                MaxQueuedRequests = o.MaxQueuedRequests,
            }, id);
            return new ServedModel(id, folder, model, tokenizer, defaults, engine, model.Device.ToString());
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _loading.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        foreach (var model in _models.Values) model.Dispose();
        _models.Clear();
    }
}
