using System.Text;
using GenAI.Core.Generation;

namespace GenAI.Server.Api;

/// <summary>
/// Builds a response's output items from the generated text, through the model's <see cref="IAssistantOutputParser"/>:
/// answer text becomes a message item (one output_text part), thinking a reasoning item, each tool call a
/// function_call item; a change of kind closes the open item and opens the next. Every step also queues the stream
/// events OpenAI sends for it (<see cref="TakeEvents"/>; sequence numbers are the writer's).
/// </summary>
public sealed class ResponseOutputBuilder(IAssistantOutputParser parser)
{
    private readonly List<ResponseItem> _output = [];
    private readonly List<ResponseStreamEvent> _events = [];
    private OpenItem? _open;
    private bool _ended;

    /// <summary>The items so far (all of them once <see cref="End"/> ran).</summary>
    public IReadOnlyList<ResponseItem> Output => _output;

    /// <summary>How the generation ended (null until it does).</summary>
    public FinishReason? Finish { get; private set; }

    /// <summary>Generated tokens that were reasoning (usage's <c>reasoning_tokens</c>), counted as chat counts them (<see cref="AssistantOutputParserExtensions.PushToken"/>).</summary>
    public int ReasoningTokens { get; private set; }

    /// <summary>Takes a generated event (its text, and its finish reason on the last one).</summary>
    public void Push(GenerationEvent e)
    {
        var (pieces, reasoning) = parser.PushToken(e.Text);
        if (e.TokenId is not null && reasoning) ReasoningTokens++;
        Add(pieces);
        if (e.Finish is not null) Finish = e.Finish;
    }

    /// <summary>
    /// The output ended: whatever the parser held back is added and the open item closed — <c>incomplete</c> when
    /// max_output_tokens cut it. An output with no item at all gets an empty message, so there is always an answer.
    /// </summary>
    public void End()
    {
        if (_ended) return;
        _ended = true;
        Add(parser.Finish()); // a call the parser ends here was cut short too (see ToolCallEnded)
        string status = LastItemStatus;
        if (_open is null && _output.Count == 0) Open(Kind.Message, null, null);
        Close(status);
    }

    /// <summary>The stream events queued since the last call, in order.</summary>
    public IReadOnlyList<ResponseStreamEvent> TakeEvents()
    {
        var events = _events.ToList();
        _events.Clear();
        return events;
    }

    // The output's last item is incomplete when max_output_tokens cut it.
    private string LastItemStatus => Finish == FinishReason.Length ? ResponseStatus.Incomplete : ResponseStatus.Completed;

    private void Add(IReadOnlyList<AssistantOutputPiece> pieces)
    {
        foreach (var piece in pieces)
        {
            switch (piece)
            {
                case AnswerText { Text.Length: > 0 } text:
                    if (_open?.Kind != Kind.Message) Open(Kind.Message, null, null);
                    Append(text.Text);
                    break;
                case ReasoningText { Text.Length: > 0 } reasoning:
                    if (_open?.Kind != Kind.Reasoning) Open(Kind.Reasoning, null, null);
                    Append(reasoning.Text);
                    break;
                case ToolCallStarted call:
                    Open(Kind.FunctionCall, call.Name, call.CallId ?? ToolCallIds.New());
                    break;
                case ToolCallArguments { Delta.Length: > 0 } arguments:
                    if (_open?.Kind != Kind.FunctionCall) throw new InvalidOperationException("tool-call arguments came outside a tool call");
                    Append(arguments.Delta);
                    break;
                case ToolCallEnded:
                    if (_open?.Kind == Kind.FunctionCall) Close(_ended ? LastItemStatus : ResponseStatus.Completed);
                    break;
            }
        }
    }

    private void Open(Kind kind, string? name, string? callId)
    {
        Close(ResponseStatus.Completed);
        int index = _output.Count;
        _open = kind switch
        {
            Kind.Message => new OpenItem(kind, ResponseIds.New("msg"), index, null, null),
            Kind.Reasoning => new OpenItem(kind, ResponseIds.New("rs"), index, null, null),
            _ => new OpenItem(kind, ResponseIds.New("fc"), index, name, callId),
        };
        _events.Add(new OutputItemEvent("response.output_item.added", index, Item(_open, ResponseStatus.InProgress)));
        if (kind == Kind.Message)
        {
            _events.Add(new ContentPartEvent("response.content_part.added", _open.Id, index, 0, new OutputTextPart("")));
        }
    }

    private void Append(string text)
    {
        var open = _open!;
        open.Text.Append(text);
        _events.Add(open.Kind switch
        {
            Kind.Message => new OutputTextDeltaEvent(open.Id, open.Index, 0, text),
            Kind.Reasoning => new ReasoningTextDeltaEvent(open.Id, open.Index, 0, text),
            _ => new FunctionCallArgumentsDeltaEvent(open.Id, open.Index, text),
        });
    }

    private void Close(string status)
    {
        if (_open is not { } open) return;
        _open = null;
        string text = open.Text.ToString();
        switch (open.Kind)
        {
            case Kind.Message:
                _events.Add(new OutputTextDoneEvent(open.Id, open.Index, 0, text));
                _events.Add(new ContentPartEvent("response.content_part.done", open.Id, open.Index, 0, new OutputTextPart(text)));
                break;
            case Kind.Reasoning:
                _events.Add(new ReasoningTextDoneEvent(open.Id, open.Index, 0, text));
                break;
            default:
                _events.Add(new FunctionCallArgumentsDoneEvent(open.Id, open.Index, open.Name!, text));
                break;
        }
        var item = Item(open, status);
        _output.Add(item);
        _events.Add(new OutputItemEvent("response.output_item.done", open.Index, item));
    }

    private static ResponseItem Item(OpenItem open, string status)
    {
        bool started = status == ResponseStatus.InProgress;
        string text = open.Text.ToString();
        return open.Kind switch
        {
            Kind.Message => new MessageItem { Id = open.Id, Status = status, Role = "assistant", Content = started ? [] : [new OutputTextPart(text)] },
            Kind.Reasoning => new ReasoningItem { Id = open.Id, Status = status, Content = started ? [] : [new ReasoningTextPart(text)] },
            _ => new FunctionCallItem { Id = open.Id, Status = status, CallId = open.CallId!, Name = open.Name!, Arguments = started ? "" : text },
        };
    }

    private enum Kind
    {
        Message,
        Reasoning,
        FunctionCall,
    }

    private sealed record OpenItem(Kind Kind, string Id, int Index, string? Name, string? CallId)
    {
        public StringBuilder Text { get; } = new();
    }
}
