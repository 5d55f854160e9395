using GenAI.Core.Checkpoints;
using GenAI.Core.Models;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Checkpoints;

/// <summary>Revisions, the current pointer and the checks that keep a broken folder from being published.</summary>
public sealed class ModelRepositoryTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private ModelRepository Repository => new(_temp.File("models"));

    /// <summary>A writable copy of the fixture model, to break.</summary>
    private string CopyOfFixture(string name)
    {
        string folder = _temp.File(name);
        DurableFiles.CopyFolder(TestPaths.Gpt2Tiny, folder);
        return folder;
    }

    [Fact]
    public void PublishingMakesNumberedRevisionsAndMovesTheCurrentPointer()
    {
        var repository = Repository;
        var first = repository.Publish("tiny", TestPaths.Gpt2Tiny);
        var second = repository.Publish("tiny", TestPaths.Gpt2Tiny);

        Assert.Equal("rev-0001", first.Revision);
        Assert.Equal("rev-0002", second.Revision);
        Assert.Equal(["rev-0001", "rev-0002"], repository.Revisions("tiny"));
        Assert.Equal(["tiny"], repository.ModelNames());
        var location = ModelRepository.Locate(repository.ModelFolder("tiny"));
        Assert.NotNull(location);
        Assert.Equal("rev-0002", location.Revision);
        Assert.Equal(second.Folder, location.Folder);
        Assert.Equal(File.ReadAllBytes(Path.Combine(TestPaths.Gpt2Tiny, CheckpointWeights.SingleFileName)),
            File.ReadAllBytes(Path.Combine(second.Folder, CheckpointWeights.SingleFileName)));
        // Nothing left over from staging.
        Assert.Equal([ModelRepository.RevisionsFolder], Directory.GetDirectories(repository.ModelFolder("tiny")).Select(Path.GetFileName));
    }

    [Fact]
    public void APlainFolderIsLocatedAsItself()
    {
        var location = ModelRepository.Locate(TestPaths.Gpt2Tiny);
        Assert.NotNull(location);
        Assert.Null(location.Revision);
        Assert.Equal(TestPaths.Gpt2Tiny, location.Folder);
        Assert.Null(ModelRepository.Locate(_temp.Path));
    }

    [Fact]
    public void ATruncatedCheckpointIsRefusedAndNothingIsWritten()
    {
        string broken = CopyOfFixture("broken");
        string weights = Path.Combine(broken, CheckpointWeights.SingleFileName);
        using (var stream = new FileStream(weights, FileMode.Open)) stream.SetLength(stream.Length / 2);

        var e = Assert.Throws<CheckpointException>(() => Repository.Publish("tiny", broken));
        Assert.Contains(weights, e.Message);
        Assert.Empty(Repository.Revisions("tiny"));
        Assert.False(File.Exists(Path.Combine(Repository.ModelFolder("tiny"), ModelRepository.CurrentPointer)));
    }

    [Fact]
    public void WeightsThatGiveNaNAreRefused()
    {
        string broken = CopyOfFixture("nan");
        using (var model = ModelLoader.Load(TestPaths.Gpt2Tiny, new ModelLoadOptions { Device = "cpu" }))
        {
            using (no_grad()) model.parameters().First().fill_(float.NaN);
            ModelLoader.Save(model, broken);
        }
        var e = Assert.Throws<CheckpointException>(() => Repository.Publish("tiny", broken));
        Assert.Contains("non-finite logits", e.Message);
    }

    [Fact]
    public void AChatTemplateThatDoesNotParseIsRefused()
    {
        string broken = CopyOfFixture("template");
        File.WriteAllText(Path.Combine(broken, "tokenizer_config.json"), """{"chat_template": "{% if %}"}""");
        var e = Assert.Throws<CheckpointException>(() => Repository.Publish("tiny", broken));
        Assert.Contains("chat_template", e.Message);
    }

    [Fact]
    public void AFailedPublishLeavesThePreviousRevisionCurrent()
    {
        var repository = Repository;
        repository.Publish("tiny", TestPaths.Gpt2Tiny);
        string broken = CopyOfFixture("shapes");
        File.WriteAllText(Path.Combine(broken, ModelConfig.FileName),
            File.ReadAllText(Path.Combine(broken, ModelConfig.FileName)).Replace("\"n_embd\": 64", "\"n_embd\": 128"));

        Assert.Throws<CheckpointException>(() => repository.Publish("tiny", broken));
        Assert.Equal("rev-0001", ModelRepository.Locate(repository.ModelFolder("tiny"))!.Revision);
    }

    [Fact]
    public void ConcurrentPublishersGetDistinctRevisions()
    {
        var repository = Repository;
        var revisions = new string[3];
        Parallel.For(0, revisions.Length, i => revisions[i] = repository.Publish("tiny", TestPaths.Gpt2Tiny, validate: false).Revision);
        Assert.Equal(["rev-0001", "rev-0002", "rev-0003"], revisions.Order());
    }

    [Fact]
    public void APlainFolderIsNotPublishedInto()
    {
        var repository = Repository;
        DurableFiles.CopyFolder(TestPaths.Gpt2Tiny, repository.ModelFolder("plain"));
        var e = Assert.Throws<CheckpointException>(() => repository.Publish("plain", TestPaths.Gpt2Tiny));
        Assert.Contains("plain model folder", e.Message);
    }

    [Theory]
    [InlineData("tiny-shakespeare", true)]
    [InlineData("gpt2.v1_ft", true)]
    [InlineData("", false)]
    [InlineData("../escape", false)]
    [InlineData(".hidden", false)]
    [InlineData("a/b", false)]
    [InlineData("ft:gpt2:x", false)]
    public void ModelNames(string name, bool valid) => Assert.Equal(valid, ModelRepository.IsValidName(name));

    [Fact]
    public void ACurrentPointerToAMissingRevisionIsAnError()
    {
        string folder = _temp.File("dangling");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, ModelRepository.CurrentPointer), "rev-0009\n");
        var e = Assert.Throws<CheckpointException>(() => ModelRepository.Locate(folder));
        Assert.Contains("rev-0009", e.Message);
    }

    public void Dispose() => _temp.Dispose();
}
