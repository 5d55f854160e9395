using System.Text;

namespace GenAI.Server.Api;

/// <summary>
/// The streaming parser of a model family's output syntax (chosen by <see cref="ModelOutputSyntax"/>): a think block at the
/// output's start is reasoning; after it, answer text until a tool-call opener (or, for Llama, a JSON value opening the
/// answer); the calls are read by <see cref="ToolCallJsonReader"/>; after them (and their closing tag) answer text
/// again. Text that may be the start of a tag is held back until the next push decides it.
/// </summary>
internal sealed class AssistantOutputParser : IAssistantOutputParser
{
    private enum State { Start, Reasoning, AnswerStart, Text, Call, AfterCall, AwaitClose }

    private readonly string? _thinkOpen;
    private readonly string? _thinkClose;
    private readonly IReadOnlyList<ToolCallMarker> _markers;
    private readonly ToolCallBody? _bareJson;
    private readonly StringBuilder _pending = new();
    private State _state;
    private ToolCallMarker? _marker;
    private ToolCallJsonReader? _reader;

    /// <param name="thinkOpen">The think block's opener (<c>&lt;think&gt;</c>), or null for a model that does not reason.</param>
    /// <param name="thinkClose">Its closing tag.</param>
    /// <param name="markers">The tool-call openers read (none when no tools are offered or tool_choice is none).</param>
    /// <param name="bareJson">How calls are written when a JSON value opens the answer; null: such a value is text.</param>
    /// <param name="startsInReasoning">The prompt opened the think block (the output begins inside it).</param>
    public AssistantOutputParser(string? thinkOpen, string? thinkClose, IReadOnlyList<ToolCallMarker> markers, ToolCallBody? bareJson, bool startsInReasoning)
    {
        _thinkOpen = thinkOpen;
        _thinkClose = thinkClose;
        _markers = markers;
        _bareJson = bareJson;
        _state = startsInReasoning && thinkClose is not null ? State.Reasoning : State.Start;
    }

    /// <inheritdoc />
    public bool IsReasoning => _state == State.Reasoning;

    /// <inheritdoc />
    public IReadOnlyList<AssistantOutputPiece> Push(string text)
    {
        var output = new List<AssistantOutputPiece>();
        _pending.Append(text);
        Process(output, final: false);
        return Merge(output);
    }

    /// <inheritdoc />
    public IReadOnlyList<AssistantOutputPiece> Finish()
    {
        var output = new List<AssistantOutputPiece>();
        Process(output, final: true);
        _reader?.Finish(output);
        _reader = null;
        return Merge(output);
    }

    private void Process(List<AssistantOutputPiece> output, bool final)
    {
        while (true)
        {
            string p = _pending.ToString();
            switch (_state)
            {
                case State.Start:
                case State.AnswerStart:
                {
                    int i = 0;
                    while (i < p.Length && char.IsWhiteSpace(p[i])) i++;
                    if (i == p.Length)
                    {
                        // Whitespace only so far. After a think block it is dropped (as Qwen's template drops it on re-rendering).
                        if (final)
                        {
                            if (_state == State.Start) Emit(output, new AnswerText(p));
                            _pending.Clear();
                        }
                        return;
                    }
                    string rest = p[i..];
                    if (_state == State.Start && _thinkOpen is { } open)
                    {
                        if (rest.StartsWith(open, StringComparison.Ordinal))
                        {
                            Consume(i + open.Length);
                            _state = State.Reasoning;
                            continue;
                        }
                        if (open.StartsWith(rest, StringComparison.Ordinal) && !final) return;
                    }
                    if (_state == State.AnswerStart) Consume(i);
                    if (_bareJson is { } body && rest[0] is '{' or '[')
                    {
                        if (_state == State.Start) Consume(i);
                        StartCall(null, body);
                        continue;
                    }
                    _state = State.Text;
                    continue;
                }
                case State.Reasoning:
                {
                    string close = _thinkClose!;
                    int at = p.IndexOf(close, StringComparison.Ordinal);
                    if (at >= 0)
                    {
                        if (at > 0) output.Add(new ReasoningText(p[..at]));
                        Consume(at + close.Length);
                        _state = State.AnswerStart;
                        continue;
                    }
                    int keep = final ? 0 : HeldBack(p, [close]);
                    if (p.Length - keep > 0) output.Add(new ReasoningText(p[..^keep]));
                    Consume(p.Length - keep);
                    return;
                }
                case State.Text:
                {
                    var (at, marker) = FirstMarker(p);
                    if (marker is not null)
                    {
                        if (at > 0) Emit(output, new AnswerText(p[..at]));
                        Consume(at + marker.Open.Length);
                        StartCall(marker, marker.Body);
                        continue;
                    }
                    int keep = final ? 0 : HeldBack(p, _markers.Select(m => m.Open));
                    if (p.Length - keep > 0) Emit(output, new AnswerText(p[..^keep]));
                    Consume(p.Length - keep);
                    return;
                }
                case State.Call:
                {
                    int used = 0;
                    var step = ToolCallJsonReader.Step.Continue;
                    while (used < p.Length)
                    {
                        step = _reader!.Feed(p[used], output);
                        if (step == ToolCallJsonReader.Step.Rejected) break;
                        used++;
                        if (step == ToolCallJsonReader.Step.Done) break;
                    }
                    Consume(used);
                    if (step == ToolCallJsonReader.Step.Continue)
                    {
                        _reader!.Flush(output);
                        return;
                    }
                    if (step == ToolCallJsonReader.Step.Rejected) _reader!.Finish(output);
                    _reader = null;
                    _state = _marker?.Close is not null ? State.AwaitClose : State.AfterCall;
                    continue;
                }
                case State.AwaitClose:
                {
                    string close = _marker!.Close!;
                    int i = 0;
                    while (i < p.Length && char.IsWhiteSpace(p[i])) i++;
                    string rest = p[i..];
                    if (rest.StartsWith(close, StringComparison.Ordinal))
                    {
                        Consume(i + close.Length);
                        _state = State.AfterCall;
                        continue;
                    }
                    if (!final && close.StartsWith(rest, StringComparison.Ordinal)) return;
                    _state = State.AfterCall;
                    continue;
                }
                case State.AfterCall:
                {
                    // Whitespace between calls (Qwen's newline between two tool_call blocks) is not answer text.
                    int i = 0;
                    while (i < p.Length && char.IsWhiteSpace(p[i])) i++;
                    if (i == p.Length)
                    {
                        if (final) _pending.Clear();
                        return;
                    }
                    Consume(i);
                    _state = State.Text;
                    continue;
                }
            }
        }
    }

    private void StartCall(ToolCallMarker? marker, ToolCallBody body)
    {
        _marker = marker;
        _reader = new ToolCallJsonReader(body);
        _state = State.Call;
    }

    private (int At, ToolCallMarker? Marker) FirstMarker(string text)
    {
        int best = -1;
        ToolCallMarker? found = null;
        foreach (var marker in _markers)
        {
            int at = text.IndexOf(marker.Open, StringComparison.Ordinal);
            if (at >= 0 && (best < 0 || at < best))
            {
                best = at;
                found = marker;
            }
        }
        return (best, found);
    }

    /// <summary>The length of the longest end of <paramref name="text"/> that begins one of <paramref name="tags"/>.</summary>
    private static int HeldBack(string text, IEnumerable<string> tags)
    {
        int keep = 0;
        foreach (string tag in tags)
        {
            for (int n = Math.Min(tag.Length - 1, text.Length); n > keep; n--)
            {
                if (string.CompareOrdinal(text, text.Length - n, tag, 0, n) == 0)
                {
                    keep = n;
                    break;
                }
            }
        }
        return keep;
    }

    private void Consume(int count) => _pending.Remove(0, count);

    private static void Emit(List<AssistantOutputPiece> output, AssistantOutputPiece piece) => output.Add(piece);

    /// <summary>Joins neighbouring pieces of the same text kind, so a push gives at most one of each in a row.</summary>
    private static List<AssistantOutputPiece> Merge(List<AssistantOutputPiece> pieces)
    {
        var merged = new List<AssistantOutputPiece>(pieces.Count);
        foreach (var piece in pieces)
        {
            var last = merged.Count > 0 ? merged[^1] : null;
            switch (piece)
            {
                case AnswerText { Text.Length: 0 }:
                case ReasoningText { Text.Length: 0 }:
                case ToolCallArguments { Delta.Length: 0 }:
                    continue;
                case AnswerText a when last is AnswerText b:
                    merged[^1] = new AnswerText(b.Text + a.Text);
                    continue;
                case ReasoningText a when last is ReasoningText b:
                    merged[^1] = new ReasoningText(b.Text + a.Text);
                    continue;
                case ToolCallArguments a when last is ToolCallArguments b:
                    merged[^1] = new ToolCallArguments(b.Delta + a.Delta);
                    continue;
                default:
                    merged.Add(piece);
                    continue;
            }
        }
        return merged;
    }
}
