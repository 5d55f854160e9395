namespace GenAI.Core.Tokenization.Templates;

/// <summary>
/// A template that cannot be parsed or rendered: a syntax error, a construct the interpreter does not support (the
/// message names it), or an operation Jinja2 itself would refuse at render time (the message says which).
/// </summary>
public class TemplateException : Exception
{
    /// <summary>An error without a known template line.</summary>
    public TemplateException(string message) : this(message, null)
    {
    }

    /// <summary>An error at <paramref name="line"/> (1-based) of the template source.</summary>
    public TemplateException(string message, int? line) : base(message) => Line = line;

    /// <summary>The 1-based template line the error was found at, when known.</summary>
    public int? Line { get; }

    /// <summary>The message with its line, for people reading logs.</summary>
    public string Describe() => Line is { } line ? $"{Message} (template line {line})" : Message;

    /// <summary>This error, at <paramref name="line"/> unless it already has one.</summary>
    internal virtual TemplateException AtLine(int line) => Line is null ? new TemplateException(Message, line) : this;
}

/// <summary>
/// The template called <c>raise_exception(message)</c>, as chat templates do to refuse a conversation (for example
/// "Conversation roles must alternate user/assistant/user/assistant/..."); <see cref="Exception.Message"/> is the
/// template's own message, unchanged.
/// </summary>
public sealed class TemplateRaisedException : TemplateException
{
    /// <summary>The exception a template raised with <paramref name="message"/>.</summary>
    public TemplateRaisedException(string message, int? line = null) : base(message, line)
    {
    }

    internal override TemplateException AtLine(int line) => Line is null ? new TemplateRaisedException(Message, line) : this;
}
