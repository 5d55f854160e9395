using System.Globalization;

namespace GenAI.Benchmarks;

/// <summary>
/// One figure measured several times (this shared machine moves ±15% between runs, and far more while others use
/// it): the best sample (the highest rate, or the lowest time) and the range of the samples, as the comparison tables
/// print them.
/// </summary>
internal sealed record Figure(IReadOnlyList<double> Samples, bool HigherIsBetter)
{
    /// <summary>A rate (tokens/s): higher is better.</summary>
    public static Figure Rate(IEnumerable<double> samples) => new(samples.ToList(), HigherIsBetter: true);

    /// <summary>A duration (ms): lower is better.</summary>
    public static Figure Time(IEnumerable<double> samples) => new(samples.ToList(), HigherIsBetter: false);

    /// <summary><paramref name="earlier"/>'s samples (if any) and <paramref name="more"/>'s together: another round of the same figure.</summary>
    public static Figure Join(Figure? earlier, Figure more) =>
        earlier is null ? more : new Figure([.. earlier.Samples, .. more.Samples], more.HigherIsBetter);

    public double Best => HigherIsBetter ? Samples.Max() : Samples.Min();

    /// <summary>The same samples in another unit (seconds to tokens/s, ...), keeping which direction is better unless told.</summary>
    public Figure Select(Func<double, double> convert, bool? higherIsBetter = null) =>
        new(Samples.Select(convert).ToList(), higherIsBetter ?? HigherIsBetter);

    /// <summary>"best (min–max)", e.g. "43.7 (38–44)".</summary>
    public string Format(string number = "F1") =>
        Best.ToString(number, CultureInfo.InvariantCulture) +
        (Samples.Count > 1 ? $" ({Samples.Min().ToString("F0", CultureInfo.InvariantCulture)}–{Samples.Max().ToString("F0", CultureInfo.InvariantCulture)})" : "");
}
