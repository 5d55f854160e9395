using GenAI.Core.Generation;

namespace GenAI.Core.Tests.Generation;

/// <summary>Runs requests through an engine and gathers what a client would see.</summary>
internal static class EngineTestKit
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public sealed record Output(List<int> Tokens, List<string> Pieces, FinishReason? Finish, List<GenerationEvent> Events)
    {
        public string Text => string.Concat(Pieces);
    }

    public static async Task<Output> Collect(IAsyncEnumerable<GenerationEvent> stream, int index = 0)
    {
        var tokens = new List<int>();
        var pieces = new List<string>();
        var events = new List<GenerationEvent>();
        FinishReason? finish = null;
        using var timeout = new CancellationTokenSource(Timeout);
        await foreach (var e in stream.WithCancellation(timeout.Token))
        {
            if (e.Index != index) continue;
            events.Add(e);
            if (e.TokenId is int token) tokens.Add(token);
            pieces.Add(e.Text);
            finish ??= e.Finish;
        }
        return new Output(tokens, pieces, finish, events);
    }

    public static Task<Output> Run(InferenceEngine engine, IReadOnlyList<int> prompt, SamplingParameters parameters) =>
        Collect(engine.Submit(new GenerationRequest { PromptTokens = prompt, Parameters = parameters }));
}
