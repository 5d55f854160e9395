using GenAI.Core.Generation;
using GenAI.Core.Models;
using GenAI.Core.Tests.Models;

namespace GenAI.Core.Tests.Generation;

/// <summary>Engines with one row: cancellation frees it, a full queue refuses, rows are bounded.</summary>
public sealed class EngineLimitsTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static readonly SamplingParameters Long = new() { Temperature = 0, MaxTokens = 110, IgnoreEos = true };

    private InferenceEngine SmallEngine(int queue) =>
        new(fixture.Model, fixture.Tokenizer, new EngineOptions { MaxBatchRows = 1, MaxQueuedRequests = queue }, "small");

    [Fact]
    public async Task CancellationFreesTheRowAtTheNextStep()
    {
        using var engine = SmallEngine(queue: 4);
        var prompt = fixture.Tokenizer.Encode("Hello");
        using var cancel = new CancellationTokenSource();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = Long }, cancel.Token))
            {
                if (++seen == 3) cancel.Cancel();
            }
        });
        // The only row is free again: a new request runs to completion.
        var next = await EngineTestKit.Run(engine, prompt, Long with { MaxTokens = 5 });
        Assert.Equal(5, next.Tokens.Count);
    }

    [Fact]
    public async Task AbandonedEnumerationFreesTheRow()
    {
        using var engine = SmallEngine(queue: 4);
        var prompt = fixture.Tokenizer.Encode("Hello");
        await foreach (var _ in engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = Long }))
        {
            break; // a client that disconnects
        }
        var next = await EngineTestKit.Run(engine, prompt, Long with { MaxTokens = 3 });
        Assert.Equal(3, next.Tokens.Count);
    }

    [Fact]
    public async Task FullQueueIsRefusedAndTheEngineRecovers()
    {
        using var engine = SmallEngine(queue: 1);
        var prompt = fixture.Tokenizer.Encode("Hello");
        using var cancel = new CancellationTokenSource();
        var running = engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = Long }, cancel.Token).GetAsyncEnumerator();
        Assert.True(await running.MoveNextAsync()); // admitted: the row is taken
        var waiting = engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = Long with { MaxTokens = 2 } });
        Assert.Equal(1, engine.QueueDepth);
        Assert.Throws<EngineBusyException>(() => engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = Long }));
        cancel.Cancel();
        await running.DisposeAsync();
        var output = await EngineTestKit.Collect(waiting);
        Assert.Equal(2, output.Tokens.Count);
    }

    [Fact]
    public void BeamsBeyondTheRowsAreRefused()
    {
        using var engine = SmallEngine(queue: 1);
        var e = Assert.Throws<InvalidGenerationRequestException>(() =>
            engine.Submit(new GenerationRequest { PromptTokens = [1, 2], Parameters = new() { NumBeams = 2 } }));
        Assert.Equal("num_beams", e.Parameter);
    }
}
