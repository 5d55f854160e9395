using System.Text.Json;
using GenAI.Core.Checkpoints;

namespace GenAI.Core.Models;

/// <summary>Typed, validated access to the fields of a <c>config.json</c>; errors name the file and the field.</summary>
public sealed class ConfigReader
{
    private readonly JsonElement _root;
    private readonly string _prefix;

    /// <summary>Wraps the parsed root object of <paramref name="path"/>.</summary>
    public ConfigReader(string path, JsonElement root) : this(path, root, "")
    {
    }

    private ConfigReader(string path, JsonElement root, string prefix)
    {
        Path = path;
        _root = root;
        _prefix = prefix;
    }

    /// <summary>The config file.</summary>
    public string Path { get; }

    /// <summary>True when the field is present, even as null.</summary>
    public bool Contains(string name) => _root.TryGetProperty(name, out _);

    /// <summary>True when the field is present and not null.</summary>
    public bool Has(string name) => Field(name) is not null;

    /// <summary>A nested object field (errors name it as <c>outer.inner</c>), or null when absent or null.</summary>
    public ConfigReader? Section(string name) =>
        Field(name) is { } e
            ? e.ValueKind == JsonValueKind.Object ? new ConfigReader(Path, e, _prefix + name + ".") : throw Invalid(name, "an object")
            : null;

    /// <summary>A copy of the object as JSON, to write the config back as it was read.</summary>
    public System.Text.Json.Nodes.JsonObject ToJsonObject() => System.Text.Json.Nodes.JsonNode.Parse(_root.GetRawText())!.AsObject();

    /// <summary>A list of numbers, or null when absent or null.</summary>
    public double[]? Doubles(string name)
    {
        if (Field(name) is not { } e) return null;
        if (e.ValueKind != JsonValueKind.Array || e.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number || !double.IsFinite(v.GetDouble())))
        {
            throw Invalid(name, "a list of numbers");
        }
        return e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
    }

    /// <summary>A list of strings, or null when absent or null.</summary>
    public string[]? Strings(string name)
    {
        if (Field(name) is not { } e) return null;
        if (e.ValueKind != JsonValueKind.Array || e.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String)) throw Invalid(name, "a list of strings");
        return e.EnumerateArray().Select(v => v.GetString()!).ToArray();
    }

    /// <summary>A string field, or null when absent or null.</summary>
    public string? String(string name) =>
        Field(name) is { } e ? e.ValueKind == JsonValueKind.String ? e.GetString() : throw Invalid(name, "a string") : null;

    /// <summary>An integer field within [min, max], or <paramref name="fallback"/> when absent or null.</summary>
    public int Int(string name, int? fallback = null, int min = 1, int max = int.MaxValue)
    {
        if (Field(name) is not { } e)
        {
            return fallback ?? throw new CheckpointException(Path, null, $"has no '{_prefix}{name}'");
        }
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int value) || value < min || value > max)
        {
            throw Invalid(name, $"an integer in [{min}, {max}]");
        }
        return value;
    }

    /// <summary>An integer field within [min, max], or null when absent or null.</summary>
    public int? OptionalInt(string name, int min = 1, int max = int.MaxValue) =>
        Field(name) is null ? null : Int(name, null, min, max);

    /// <summary>An optional token id (a list takes its first element).</summary>
    public int? OptionalTokenId(string name) => TokenIds(name).Cast<int?>().FirstOrDefault();

    /// <summary>Token ids written as one id or a list of ids (as <c>eos_token_id</c> may be); empty when absent or null.</summary>
    public IReadOnlyList<int> TokenIds(string name)
    {
        if (Field(name) is not { } e) return [];
        var items = e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().ToList() : [e];
        var ids = new List<int>(items.Count);
        foreach (var item in items)
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int value) || value < 0) throw Invalid(name, "a non-negative token id or a list of them");
            ids.Add(value);
        }
        return ids;
    }

    /// <summary>A number field within [min, max], or <paramref name="fallback"/> when absent or null.</summary>
    public double Double(string name, double fallback, double min = double.MinValue, double max = double.MaxValue)
    {
        if (Field(name) is not { } e) return fallback;
        if (e.ValueKind != JsonValueKind.Number || !double.IsFinite(e.GetDouble()) || e.GetDouble() < min || e.GetDouble() > max)
        {
            throw Invalid(name, $"a number in [{min}, {max}]");
        }
        return e.GetDouble();
    }

    /// <summary>A boolean field, or <paramref name="fallback"/> when absent or null.</summary>
    public bool Bool(string name, bool fallback)
    {
        if (Field(name) is not { } e) return fallback;
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(name, "true or false"),
        };
    }

    /// <summary>An error naming the field and what it should be.</summary>
    public CheckpointException Invalid(string name, string expected) =>
        new(Path, null, $"'{_prefix}{name}' must be {expected}, not {Field(name)?.GetRawText() ?? "missing"}");

    /// <summary>An error about a field that is present but not supported.</summary>
    public CheckpointException Unsupported(string name, string why) => new(Path, null, $"'{_prefix}{name}': {why}");

    private JsonElement? Field(string name) =>
        _root.TryGetProperty(name, out var e) && e.ValueKind != JsonValueKind.Null ? e : null;
}
