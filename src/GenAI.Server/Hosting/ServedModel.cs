using System.Security.Cryptography;
using GenAI.Core.Checkpoints;
using GenAI.Core.Generation;
using GenAI.Core.Models;
using GenAI.Core.Tokenization;

namespace GenAI.Server.Hosting;

/// <summary>
/// One loaded model revision with its tokenizer, defaults and engine. Requests hold it through a
/// <see cref="ModelLease"/>; once a newer revision replaces it (<see cref="Retire"/>) it is disposed when the
/// last lease ends, so running requests finish on the revision they started with.
/// </summary>
public sealed class ServedModel : IDisposable
{
    private readonly Lock _lock = new();
    private int _leases;
    private bool _retired;
    private bool _disposed;

    public ServedModel(string id, string folder, string? revision, CausalLanguageModel model, TextTokenizer tokenizer, ChatTemplate chatTemplate,
        GenerationDefaults defaults, InferenceEngine engine, string device)
    {
        Id = id;
        Folder = folder;
        Model = model;
        Tokenizer = tokenizer;
        Defaults = defaults;
        Engine = engine;
        Device = device;
        Revision = revision ?? ComputeRevision(folder);
        ChatTemplate = chatTemplate;
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        WeightBytes = model.WeightBytes;
    }

    /// <summary>Bytes of the model's weights in memory.</summary>
    public long WeightBytes { get; }

    public string Id { get; }

    /// <summary>The folder the weights came from (a revision's folder for a model with revisions).</summary>
    public string Folder { get; }

    /// <summary>The revision's name (<c>rev-NNNN</c>), or for a plain folder a content hash (<c>rev-</c> + 12 hex digits).</summary>
    public string Revision { get; }

    public CausalLanguageModel Model { get; }
    public TextTokenizer Tokenizer { get; }
    public GenerationDefaults Defaults { get; }
    public InferenceEngine Engine { get; }
    public ChatTemplate ChatTemplate { get; }
    public string Device { get; }
    public long Created { get; }

    /// <summary>Longest prompt + output.</summary>
    public int ContextLength => Engine.ContextLength;

    /// <summary>Requests now holding this revision.</summary>
    public int Leases
    {
        get
        {
            lock (_lock) return _leases;
        }
    }

    /// <summary>A lease on this revision, or null once it has been retired.</summary>
    public ModelLease? TryAcquire()
    {
        lock (_lock)
        {
            if (_retired) return null;
            _leases++;
            return new ModelLease(this);
        }
    }

    internal void Release()
    {
        bool dispose;
        lock (_lock)
        {
            _leases--;
            dispose = _retired && _leases == 0 && !_disposed;
            if (dispose) _disposed = true;
        }
        if (dispose) DisposeNow();
    }

    /// <summary>No new leases; disposed once the running ones end.</summary>
    public void Retire()
    {
        bool dispose;
        lock (_lock)
        {
            _retired = true;
            dispose = _leases == 0 && !_disposed;
            if (dispose) _disposed = true;
        }
        if (dispose) DisposeNow();
    }

    /// <summary>True once the engine and weights are freed.</summary>
    public bool IsDisposed
    {
        get
        {
            lock (_lock) return _disposed;
        }
    }

    /// <summary>A short content hash of config.json and the weights' headers: the same files give the same revision.</summary>
    private static string ComputeRevision(string folder)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string name in new[] { ModelConfig.FileName, CheckpointWeights.SingleFileName, CheckpointWeights.IndexFileName })
        {
            string path = Path.Combine(folder, name);
            if (!File.Exists(path)) continue;
            using var stream = File.OpenRead(path);
            var buffer = new byte[Math.Min(stream.Length, 1 << 20)];
            stream.ReadExactly(buffer);
            hash.AppendData(buffer);
            hash.AppendData(BitConverter.GetBytes(stream.Length));
        }
        return "rev-" + Convert.ToHexStringLower(hash.GetHashAndReset())[..12];
    }

    private void DisposeNow()
    {
        Engine.Dispose();
        Model.Dispose();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _retired = true;
            if (_disposed) return;
            _disposed = true;
        }
        DisposeNow();
    }
}

/// <summary>A request's hold on a <see cref="ServedModel"/>; disposing it lets a retired revision go.</summary>
public sealed class ModelLease : IDisposable
{
    private int _released;

    internal ModelLease(ServedModel model) => Model = model;

    public ServedModel Model { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) Model.Release();
    }
}
