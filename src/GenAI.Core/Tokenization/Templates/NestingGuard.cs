using System.Runtime.CompilerServices;

namespace GenAI.Core.Tokenization.Templates;

/// <summary>
/// A fixed bound on how deeply parsing and rendering recurse (nested expressions, nested values printed or compared,
/// nested blocks), as Python's recursion limit bounds Jinja2: the same template fails the same way on every thread,
/// whatever its stack size, and never overflows the stack. Exceeding it throws
/// <see cref="InsufficientExecutionStackException"/>, which the template's entry points report as a template error.
/// </summary>
internal static class NestingGuard
{
    /// <summary>Levels allowed; real chat templates nest a few dozen at most.</summary>
    public const int MaxDepth = 512;

    [ThreadStatic] private static int t_depth;

    /// <summary>Enters one level; dispose the result to leave it.</summary>
    public static Level Enter()
    {
        if (t_depth >= MaxDepth) throw new InsufficientExecutionStackException();
        RuntimeHelpers.EnsureSufficientExecutionStack();
        t_depth++;
        return default;
    }

    /// <summary>One level of nesting, left when disposed.</summary>
    public readonly struct Level : IDisposable
    {
        /// <inheritdoc />
        public void Dispose() => t_depth--;
    }
}
