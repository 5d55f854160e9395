namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// The limits a constrained JSON output keeps beyond the schema, so that any model — a random-weight one included —
/// reaches the end of a value and every client parses it:
/// <list type="bullet">
/// <item><b>Whitespace</b>: at most <see cref="MaxWhitespace"/> bytes (a space or a newline) between two lexemes, none
/// before the value (unless a caller allows it) and none after it. Compact JSON and the usual <c>": "</c> / <c>", "</c>
/// separators fit; indentation does not. As XGrammar's and vLLM's compact defaults, this keeps a model from spending its
/// tokens (or looping) on whitespace.</item>
/// <item><b>Nesting</b>: at most <see cref="MaxNestingDepth"/> open objects and arrays (System.Text.Json refuses
/// depths over 64 by default).</item>
/// <item><b>Numbers</b>: at most <see cref="MaxIntegerDigits"/> integer digits (exact in a double),
/// <see cref="MaxFractionDigits"/> fraction digits and <see cref="MaxExponentDigits"/> exponent digits; no exponent on
/// integers or bounded numbers.</item>
/// </list>
/// </summary>
public sealed record JsonGrammarOptions
{
    /// <summary>The defaults described above.</summary>
    public static JsonGrammarOptions Default { get; } = new();

    /// <summary>Most whitespace bytes between two lexemes (0..8, default 1).</summary>
    public int MaxWhitespace { get; init; } = 1;

    /// <summary>Most nested objects and arrays (1..64, default 32).</summary>
    public int MaxNestingDepth { get; init; } = 32;

    /// <summary>Most digits before the decimal point (1..15, default 15).</summary>
    public int MaxIntegerDigits { get; init; } = 15;

    /// <summary>Most digits after the decimal point (0..12, default 12).</summary>
    public int MaxFractionDigits { get; init; } = 12;

    /// <summary>Most exponent digits (0..3, default 2; 0 writes no exponents).</summary>
    public int MaxExponentDigits { get; init; } = 2;

    internal void Validate()
    {
        if (MaxWhitespace is < 0 or > 8) throw new ArgumentOutOfRangeException(nameof(MaxWhitespace), MaxWhitespace, "must be 0..8");
        if (MaxNestingDepth is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(MaxNestingDepth), MaxNestingDepth, "must be 1..64");
        if (MaxIntegerDigits is < 1 or > 15) throw new ArgumentOutOfRangeException(nameof(MaxIntegerDigits), MaxIntegerDigits, "must be 1..15");
        if (MaxFractionDigits is < 0 or > 12) throw new ArgumentOutOfRangeException(nameof(MaxFractionDigits), MaxFractionDigits, "must be 0..12");
        if (MaxExponentDigits is < 0 or > 3) throw new ArgumentOutOfRangeException(nameof(MaxExponentDigits), MaxExponentDigits, "must be 0..3");
    }
}
