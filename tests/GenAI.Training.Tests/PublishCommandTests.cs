using GenAI.Core.Checkpoints;

namespace GenAI.Training.Tests;

/// <summary><c>GenAI.Worker publish</c> as a user runs it: a good folder becomes the next revision, a broken one is refused.</summary>
public sealed class PublishCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("genai-publish-").FullName;
    private readonly WorkerProcesses _workers = new();

    private async Task<(int ExitCode, string Output)> PublishAsync(string from)
    {
        var (process, output) = _workers.Start(["publish", "--models-root", Path.Combine(_root, "models"), "--name", "bard", "--from", from]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, output.ToString());
    }

    [Fact]
    public async Task PublishesRevisionsAndRefusesABrokenFolder()
    {
        var first = await PublishAsync(TestPaths.Gpt2Tiny);
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("published bard rev-0001", first.Output);

        string broken = Path.Combine(_root, "broken");
        DurableFiles.CopyFolder(TestPaths.Gpt2Tiny, broken);
        File.Delete(Path.Combine(broken, "vocab.json"));
        var refused = await PublishAsync(broken);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("refused to publish", refused.Output);
        Assert.Contains("tokenizer", refused.Output);

        var repository = new ModelRepository(Path.Combine(_root, "models"));
        Assert.Equal(["rev-0001"], repository.Revisions("bard"));
        Assert.Equal("rev-0001", ModelRepository.Locate(repository.ModelFolder("bard"))!.Revision);
    }

    public void Dispose()
    {
        _workers.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
