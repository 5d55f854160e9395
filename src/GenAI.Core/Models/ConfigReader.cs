using System.Text.Json;
using GenAI.Core.Checkpoints;

namespace GenAI.Core.Models;

/// <summary>Typed, validated access to the fields of a <c>config.json</c>; errors name the file and the field.</summary>
public sealed class ConfigReader
{
    private readonly JsonElement _root;

    /// <summary>Wraps the parsed root object of <paramref name="path"/>.</summary>
    public ConfigReader(string path, JsonElement root)
    {
        Path = path;
        _root = root;
    }

    /// <summary>The config file.</summary>
    public string Path { get; }

    /// <summary>A string field, or null when absent or null.</summary>
    public string? String(string name) =>
        Field(name) is { } e ? e.ValueKind == JsonValueKind.String ? e.GetString() : throw Invalid(name, "a string") : null;

    /// <summary>An integer field within [min, max], or <paramref name="fallback"/> when absent or null.</summary>
    public int Int(string name, int? fallback = null, int min = 1, int max = int.MaxValue)
    {
        if (Field(name) is not { } e)
        {
            return fallback ?? throw new CheckpointException(Path, null, $"has no '{name}'");
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

    /// <summary>An optional integer field (token ids; a list takes its first element).</summary>
    public int? OptionalTokenId(string name)
    {
        if (Field(name) is not { } e) return null;
        if (e.ValueKind == JsonValueKind.Array) e = e.EnumerateArray().FirstOrDefault();
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int value) && value >= 0 ? value : throw Invalid(name, "a non-negative token id");
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
        new(Path, null, $"'{name}' must be {expected}, not {Field(name)?.GetRawText() ?? "missing"}");

    private JsonElement? Field(string name) =>
        _root.TryGetProperty(name, out var e) && e.ValueKind != JsonValueKind.Null ? e : null;
}
