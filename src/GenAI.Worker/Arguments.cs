using System.Globalization;

namespace GenAI.Worker;

/// <summary>The verbs' <c>--name value</c> options, with the errors every verb gives for a stray argument or a missing value.</summary>
internal static class Arguments
{
    /// <summary>Each option's name (without <c>--</c>) and value, in order.</summary>
    public static IEnumerable<(string Name, string Value)> Pairs(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : throw new ArgumentException($"unexpected argument '{args[i]}'");
            string value = i + 1 < args.Length ? args[++i] : throw new ArgumentException($"--{name} needs a value");
            yield return (name, value);
        }
    }

    /// <summary>A number of seconds in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static double Seconds(string name, string value, double min, double max) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s >= min && s <= max
            ? s : throw new ArgumentException($"--{name} must be a number of seconds in [{min}, {max}], not '{value}'");
}
