using System.Text.Json;

namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// Compiled constraints by schema text, least recently used dropped beyond <see cref="Capacity"/>: a client that sends
/// the same schema with every request compiles it once, and its masks (cached per tokenizer by state, which names the
/// compiled grammar) are shared across those requests. Refusals are not cached (their messages name the request's
/// path). Thread-safe.
/// </summary>
public sealed class JsonConstraintCache(int capacity = 64)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, JsonConstraint Constraint)>> _entries = [];
    private readonly LinkedList<(string Key, JsonConstraint Constraint)> _recency = [];

    /// <summary>The cache the server uses.</summary>
    public static JsonConstraintCache Shared { get; } = new();

    /// <summary>Most constraints kept.</summary>
    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>Constraints compiled, not found in the cache.</summary>
    public long Compiled { get; private set; }

    /// <summary><see cref="JsonConstraint.FromSchema(JsonElement, string, JsonGrammarOptions?)"/>, cached by the schema's text and the options.</summary>
    public JsonConstraint FromSchema(JsonElement schema, string path, JsonGrammarOptions? options = null) =>
        GetOrAdd("schema\n" + (options ?? JsonGrammarOptions.Default) + "\n" + schema.GetRawText(), () => JsonConstraint.FromSchema(schema, path, options));

    /// <summary><see cref="JsonConstraint.AnyObject"/>, one per options.</summary>
    public JsonConstraint AnyObject(JsonGrammarOptions? options = null) =>
        GetOrAdd("object\n" + (options ?? JsonGrammarOptions.Default), () => JsonConstraint.AnyObject(options));

    /// <summary>
    /// <see cref="JsonConstraint.ForToolCalls"/>, cached by the tools' names and parameters schemas and the shape (an agent
    /// sends the same tools with every turn). Errors name <c>tools[i].function...</c>, which is the same in every request.
    /// </summary>
    public JsonConstraint ForToolCalls(IReadOnlyList<ToolSchema> tools, ToolCallShape shape, JsonGrammarOptions? options = null)
    {
        var key = new System.Text.StringBuilder("tools\n").Append(options ?? JsonGrammarOptions.Default).Append('\n').Append(shape).Append('\n');
        foreach (var tool in tools) key.Append(JsonSerializer.Serialize(tool.Name)).Append(':').Append(tool.Parameters?.GetRawText() ?? "null").Append('\n');
        return GetOrAdd(key.ToString(), () => JsonConstraint.ForToolCalls(tools, shape, options));
    }

    private JsonConstraint GetOrAdd(string key, Func<JsonConstraint> compile)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                return node.Value.Constraint;
            }
        }
        var constraint = compile(); // outside the lock: a large schema does not hold up the others
        lock (_gate)
        {
            Compiled++;
            if (_entries.TryGetValue(key, out var raced)) return raced.Value.Constraint;
            _entries[key] = _recency.AddFirst((key, constraint));
            while (_entries.Count > Capacity && _recency.Last is { } last)
            {
                _recency.RemoveLast();
                _entries.Remove(last.Value.Key);
            }
            return constraint;
        }
    }
}
