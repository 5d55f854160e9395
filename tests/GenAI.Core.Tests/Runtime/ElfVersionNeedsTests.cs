using GenAI.Build;

namespace GenAI.Core.Tests.Runtime;

/// <summary>The ELF reading behind the build step that adapts libLibTorchSharp.so and behind the load-failure message.</summary>
public class ElfVersionNeedsTests
{
    private static readonly string NativeLibrary = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [Fact]
    public void TheOnlyNewLibStdCxxRequirementIsTheLinkAnchor()
    {
        var needs = ElfVersionNeeds.ReadNeeds(File.ReadAllBytes(NativeLibrary));
        var anchor = Assert.Single(needs, n => n.Version == "GLIBCXX_3.4.32");
        Assert.Equal("libstdc++.so.6", anchor.File);
        Assert.Equal(["_ZSt21ios_base_library_initv"], anchor.Symbols);
        Assert.True(ElfVersionNeeds.IsHarmless(anchor));
        Assert.False(ElfVersionNeeds.IsHarmless(Assert.Single(needs, n => n.Version == "GLIBCXX_3.4.30")));
    }

    [Fact]
    public void MarkingWeakSatisfiesAnOlderLibStdCxx()
    {
        var bytes = File.ReadAllBytes(NativeLibrary);
        var anchor = ElfVersionNeeds.ReadNeeds(bytes).Single(n => n.Version == "GLIBCXX_3.4.32");
        bytes[anchor.FlagsOffset] &= unchecked((byte)~0x2); // as shipped in the package: a strong requirement

        // This machine's libstdc++ without what GCC 13 added: Debian 12's and Ubuntu 22.04's.
        var olderLibStdCxx = ElfVersionNeeds.ReadDefinitions(File.ReadAllBytes(ElfVersionNeeds.FindSystemLibStdCxx()!))
            .Where(v => v is not ("GLIBCXX_3.4.31" or "GLIBCXX_3.4.32" or "GLIBCXX_3.4.33" or "GLIBCXX_3.4.34")).ToHashSet();
        var missing = ElfVersionNeeds.MissingLibStdCxxNeeds(bytes, olderLibStdCxx);
        Assert.Equal(["GLIBCXX_3.4.32"], missing.Select(n => n.Version));

        ElfVersionNeeds.MarkWeak(bytes, missing);
        Assert.Empty(ElfVersionNeeds.MissingLibStdCxxNeeds(bytes, olderLibStdCxx));
        Assert.True(ElfVersionNeeds.ReadNeeds(bytes).Single(n => n.Version == "GLIBCXX_3.4.32").Weak);
    }

    [Fact]
    public void ThisMachinesLibStdCxxIsRead()
    {
        string? path = ElfVersionNeeds.FindSystemLibStdCxx();
        Assert.NotNull(path);
        var versions = ElfVersionNeeds.ReadDefinitions(File.ReadAllBytes(path));
        Assert.Contains("GLIBCXX_3.4.30", versions);
    }
}
