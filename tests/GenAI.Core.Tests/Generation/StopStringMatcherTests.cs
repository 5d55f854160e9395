using GenAI.Core.Generation;

namespace GenAI.Core.Tests.Generation;

public class StopStringMatcherTests
{
    [Fact]
    public void StopSpanningPiecesIsNeverShown()
    {
        var matcher = new StopStringMatcher(["END"]);
        Assert.Equal("Hello ", matcher.Append("Hello E"));
        Assert.Equal("", matcher.Append("N"));
        Assert.Equal("", matcher.Append("D and more"));
        Assert.True(matcher.Stopped);
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void HeldTextIsReleasedWhenItStopsLookingLikeAStop()
    {
        var matcher = new StopStringMatcher(["END", "\n\n"]);
        Assert.Equal("a", matcher.Append("aE"));
        Assert.Equal("EX", matcher.Append("X"));
        Assert.Equal("line", matcher.Append("line\n"));
        Assert.Equal("\nx", matcher.Append("x"));
        Assert.False(matcher.Stopped);
        Assert.Equal("ab", matcher.Append("abEN"));
        Assert.Equal("EN", matcher.Flush());
    }

    [Fact]
    public void EarliestStopWins()
    {
        var matcher = new StopStringMatcher(["world", "lo"]);
        Assert.Equal("Hel", matcher.Append("Hello world"));
        Assert.True(matcher.Stopped);
    }
}
