using System.Text.Json;

namespace GenAI.Core.Checkpoints;

/// <summary>
/// The weights of a Hugging Face model folder: <c>model.safetensors</c>, or the shards named by
/// <c>model.safetensors.index.json</c>. Every tensor is looked up by name across the files.
/// </summary>
public sealed class CheckpointWeights : IDisposable
{
    /// <summary>The single-file weights name.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>The shard index name.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, SafetensorsFile> _byTensor;

    private CheckpointWeights(string folder, List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> byTensor)
    {
        Folder = folder;
        _files = files;
        _byTensor = byTensor;
    }

    /// <summary>The model folder.</summary>
    public string Folder { get; }

    /// <summary>Every tensor name across the files.</summary>
    public IEnumerable<string> Names => _byTensor.Keys;

    /// <summary>Opens the weights of <paramref name="folder"/>, validating every file's header.</summary>
    public static CheckpointWeights Open(string folder)
    {
        string index = Path.Combine(folder, IndexFileName);
        string single = Path.Combine(folder, SingleFileName);
        if (File.Exists(index)) return OpenSharded(folder, index);
        if (File.Exists(single))
        {
            var file = SafetensorsFile.Open(single);
            return new CheckpointWeights(folder, [file], file.Tensors.Keys.ToDictionary(k => k, _ => file, StringComparer.Ordinal));
        }
        throw new CheckpointException(folder, null, $"no {SingleFileName} or {IndexFileName} in the model folder");
    }

    /// <summary>Finds the file holding <paramref name="name"/>.</summary>
    public bool TryFind(string name, out SafetensorsFile file, out SafetensorsTensorInfo info)
    {
        if (_byTensor.TryGetValue(name, out file!))
        {
            info = file.Tensors[name];
            return true;
        }
        info = null!;
        return false;
    }

    private static CheckpointWeights OpenSharded(string folder, string indexPath)
    {
        Dictionary<string, string> weightMap;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            if (!document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointException(indexPath, null, "has no weight_map object");
            }
            weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                string? shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString() : null;
                if (string.IsNullOrEmpty(shard) || shard.Contains('/') || shard.Contains('\\') || shard.StartsWith('.'))
                {
                    throw new CheckpointException(indexPath, entry.Name, $"weight_map names an invalid shard file {entry.Value.GetRawText()}");
                }
                weightMap[entry.Name] = shard;
            }
        }
        catch (JsonException e)
        {
            throw new CheckpointException(indexPath, null, $"is not valid JSON: {e.Message}", e);
        }

        var files = new List<SafetensorsFile>();
        try
        {
            var byShard = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (string shard in weightMap.Values.Distinct())
            {
                var file = SafetensorsFile.Open(Path.Combine(folder, shard));
                files.Add(file);
                byShard[shard] = file;
            }

            var byTensor = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var (tensor, shard) in weightMap)
            {
                var file = byShard[shard];
                if (!file.Tensors.ContainsKey(tensor))
                {
                    throw new CheckpointException(file.FilePath, tensor, $"listed in {IndexFileName} but missing from the shard");
                }
                byTensor[tensor] = file;
            }
            return new CheckpointWeights(folder, files, byTensor);
        }
        catch
        {
            foreach (var file in files) file.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var file in _files) file.Dispose();
    }
}
