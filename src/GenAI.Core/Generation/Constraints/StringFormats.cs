namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// The <c>format</c> values a string can be constrained to, as patterns that write only valid instances (a subset of
/// the format where the full one is irregular: no February 29, no leap seconds, upper-case <c>T</c>/<c>Z</c>, years
/// 1000-9999, lower-case hex in UUIDs).
/// </summary>
internal static class StringFormats
{
    private const string Date = "[1-9][0-9]{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)";
    private const string Time = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])";
    private const string Octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

    /// <summary>Format name → anchored pattern.</summary>
    public static IReadOnlyDictionary<string, string> Patterns { get; } = new Dictionary<string, string>
    {
        ["date"] = $"^{Date}$",
        ["time"] = $"^{Time}$",
        ["date-time"] = $"^{Date}T{Time}$",
        ["uuid"] = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        ["ipv4"] = $"^{Octet}(?:\\.{Octet}){{3}}$",
    };
}
