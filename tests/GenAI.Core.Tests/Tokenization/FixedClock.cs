namespace GenAI.Core.Tests.Tokenization;

/// <summary>A clock stopped at one moment, in UTC, so templates that print today's date render the same every day.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}
