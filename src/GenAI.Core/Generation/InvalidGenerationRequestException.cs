namespace GenAI.Core.Generation;

/// <summary>A generation request that cannot be run as given; <see cref="Parameter"/> names the field at fault.</summary>
public sealed class InvalidGenerationRequestException(string parameter, string message) : ArgumentException(message, parameter)
{
    /// <summary>The request field at fault, named as the API names it (e.g. <c>top_p</c>).</summary>
    public string Parameter { get; } = parameter;

    /// <summary>The message without the parameter suffix ArgumentException appends.</summary>
    public string Reason { get; } = message;
}
