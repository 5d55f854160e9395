namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// A schema that cannot be compiled into a constraint: invalid, or using a keyword this implementation does not
/// support. <see cref="Path"/> names where (e.g. <c>response_format.json_schema.schema.properties.age</c>); the message
/// reads <c>{Path}: {Reason}</c>. Nothing that raised it reaches the engine.
/// </summary>
public sealed class JsonSchemaException(string path, string reason) : Exception($"{path}: {reason}")
{
    /// <summary>The JSON path of the offending schema, from the request's field.</summary>
    public string Path { get; } = path;

    /// <summary>What is wrong there.</summary>
    public string Reason { get; } = reason;
}
