using System.Security.Cryptography;
using GenAI.Core.Checkpoints;
using GenAI.Core.Generation;
using GenAI.Core.Models;
using GenAI.Core.Tokenization;

namespace GenAI.Server.Hosting;

/// <summary>One loaded model revision with its tokenizer, defaults and engine.</summary>
public sealed class ServedModel : IDisposable
{
    public ServedModel(string id, string folder, CausalLanguageModel model, TextTokenizer tokenizer, GenerationDefaults defaults,
        InferenceEngine engine, string device)
    {
        Id = id;
        Folder = folder;
        Model = model;
        Tokenizer = tokenizer;
        Defaults = defaults;
        Engine = engine;
        Device = device;
        Revision = ComputeRevision(folder);
        ChatTemplate = ChatTemplate.Load(folder);
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    public string Id { get; }
    public string Folder { get; }
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

    public void Dispose()
    {
        Engine.Dispose();
        Model.Dispose();
    }
}
