using System.Diagnostics;
using System.Threading.Channels;
using GenAI.Core.Generation;
using GenAI.Server.Hosting;
using GenAI.Server.Observability;
using Serilog;

namespace GenAI.Server.Api;

/// <summary>One generated event, tagged with the response choice it belongs to.</summary>
public readonly record struct ChoiceEvent(int Choice, GenerationEvent Event);

/// <summary>
/// The engine requests behind one API request (n choices for each prompt; beam search returns its n best from
/// one request), submitted together up front — so a full queue or an invalid field fails before any response —
/// and read back as one merged stream.
/// </summary>
public sealed class GenerationRun : IAsyncDisposable
{
    private readonly List<(int FirstChoice, IAsyncEnumerable<GenerationEvent> Stream)> _streams = [];
    private readonly CancellationTokenSource _cancel;
    private readonly ServedModel _model;
    private readonly ServerMetrics _metrics;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double? _lastTokenAt;

    private readonly IDiagnosticContext _log;

    private GenerationRun(ServedModel model, ServerMetrics metrics, IDiagnosticContext log, CancellationToken cancellation)
    {
        _model = model;
        _metrics = metrics;
        _log = log;
        log.Set("Model", model.Id);
        log.Set("Revision", model.Revision);
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
    }

    public int PromptTokens { get; private set; }

    public int CompletionTokens { get; private set; }

    public double? TimeToFirstToken { get; private set; }

    public Usage Usage => new(PromptTokens, CompletionTokens, PromptTokens + CompletionTokens);

    /// <summary>Counts the run's tokens in the metrics and the request's log line.</summary>
    public void Record()
    {
        _metrics.PromptTokens.WithLabels(_model.Id).Inc(PromptTokens);
        _metrics.CompletionTokens.WithLabels(_model.Id).Inc(CompletionTokens);
        _log.Set("PromptTokens", PromptTokens);
        _log.Set("CompletionTokens", CompletionTokens);
        _log.Set("TimeToFirstTokenMs", TimeToFirstToken is double t ? Math.Round(t * 1000, 1) : null);
    }

    /// <summary>Validates and submits every request; throws <see cref="ApiException"/> (400/429) before anything runs.</summary>
    public static GenerationRun Start(ServedModel model, ServerMetrics metrics, IReadOnlyList<IReadOnlyList<int>> prompts,
        Func<int, SamplingParameters> parametersForPrompt, int n, IDiagnosticContext log, CancellationToken cancellation)
    {
        var run = new GenerationRun(model, metrics, log, cancellation);
        var requests = new List<(int FirstChoice, GenerationRequest Request)>();
        for (int p = 0; p < prompts.Count; p++)
        {
            var parameters = parametersForPrompt(prompts[p].Count);
            run.PromptTokens += prompts[p].Count;
            if (parameters.NumBeams > 1)
            {
                requests.Add((p * n, new GenerationRequest { PromptTokens = prompts[p], Parameters = parameters }));
                continue;
            }
            for (int i = 0; i < n; i++)
            {
                var choice = parameters with { Seed = parameters.Seed + i };
                requests.Add((p * n + i, new GenerationRequest { PromptTokens = prompts[p], Parameters = choice }));
            }
        }
        try
        {
            foreach (var (_, request) in requests) Translate(() => model.Engine.Validate(request));
            foreach (var (first, request) in requests) run._streams.Add((first, Translate(() => model.Engine.Submit(request, run._cancel.Token))));
        }
        catch
        {
            run._cancel.Cancel();
            throw;
        }
        return run;
    }

    /// <summary>
    /// Every event of every choice, in the order they are produced. A single engine stream (one choice, or beam search)
    /// is read directly: its events arrive on the thread the engine's write woke, with no pump and no second channel.
    /// </summary>
    public async IAsyncEnumerable<ChoiceEvent> ReadAllAsync()
    {
        var source = _streams.Count == 1 ? Single(_streams[0].FirstChoice, _streams[0].Stream) : Merged();
        var ttft = _metrics.TimeToFirstToken.WithLabels(_model.Id);
        var interTokenLatency = _metrics.InterTokenLatency.WithLabels(_model.Id);
        await foreach (var item in source.ConfigureAwait(false))
        {
            if (item.Event.TokenId is not null)
            {
                double now = _clock.Elapsed.TotalSeconds;
                if (TimeToFirstToken is null)
                {
                    TimeToFirstToken = now;
                    ttft.Observe(now);
                }
                else if (_lastTokenAt is double last)
                {
                    interTokenLatency.Observe(now - last);
                }
                _lastTokenAt = now;
            }
            if (item.Event.CompletionTokens is int count) CompletionTokens += count;
            yield return item;
        }
    }

    private static async IAsyncEnumerable<ChoiceEvent> Single(int firstChoice, IAsyncEnumerable<GenerationEvent> stream)
    {
        await foreach (var e in stream.ConfigureAwait(false)) yield return new ChoiceEvent(firstChoice + e.Index, e);
    }

    private IAsyncEnumerable<ChoiceEvent> Merged()
    {
        var merged = Channel.CreateUnbounded<ChoiceEvent>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = _streams.Select(s => Task.Run(async () =>
        {
            await foreach (var e in s.Stream.ConfigureAwait(false)) merged.Writer.TryWrite(new ChoiceEvent(s.FirstChoice + e.Index, e));
        })).ToList();
        _ = Task.WhenAll(pumps).ContinueWith(t => merged.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
        return merged.Reader.ReadAllAsync(CancellationToken.None);
    }

    private static T Translate<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (InvalidGenerationRequestException e)
        {
            throw ApiException.Invalid(e.Reason, e.Parameter);
        }
        catch (EngineBusyException e)
        {
            throw ApiException.Busy(e.Message);
        }
    }

    private static void Translate(Action action) => Translate(() => { action(); return 0; });

    public ValueTask DisposeAsync()
    {
        _cancel.Cancel();
        _cancel.Dispose();
        return ValueTask.CompletedTask;
    }
}
