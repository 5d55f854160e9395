using System.Text;
using GenAI.Core.Generation;

namespace GenAI.Server.Api;

/// <summary>
/// One chat choice's answer as its <see cref="IAssistantOutputParser"/> reads it: content, reasoning_content and
/// tool_calls for the whole message, and for a stream the delta each event adds (OpenAI's shape: a call's index, id,
/// type and name first, then its argument text). Counts reasoning tokens.
/// </summary>
internal sealed class AssistantMessageBuilder(IAssistantOutputParser parser)
{
    private readonly StringBuilder _content = new();
    private readonly StringBuilder _reasoning = new();
    private readonly List<(string Id, string Name, StringBuilder Arguments)> _calls = [];
    private bool _inCall;

    /// <summary>Tokens generated inside the think block.</summary>
    public int ReasoningTokens { get; private set; }

    /// <summary>True once the answer called a tool.</summary>
    public bool CalledTools => _calls.Count > 0;

    /// <summary>Takes one event's text (and, on the last event, what the parser held back); returns its delta or null.</summary>
    public ChatMessageOut? Add(GenerationEvent e)
    {
        var (pushed, reasoning) = parser.PushToken(e.Text);
        var pieces = new List<AssistantOutputPiece>(pushed);
        if (e.TokenId is not null && reasoning) ReasoningTokens++;
        if (e.Finish is not null) pieces.AddRange(parser.Finish());
        return Apply(pieces);
    }

    /// <summary>The whole message. Content is null when the answer is only tool calls.</summary>
    public ChatMessageOut Message() =>
        new("assistant", _content.Length == 0 && CalledTools ? null : _content.ToString())
        {
            ReasoningContent = _reasoning.Length > 0 ? _reasoning.ToString() : null,
            ToolCalls = CalledTools ? _calls.Select(c => new ChatToolCallOut(null, c.Id, "function", new ChatFunctionCallOut(c.Name, c.Arguments.ToString()))).ToList() : null,
        };

    private ChatMessageOut? Apply(List<AssistantOutputPiece> pieces)
    {
        if (pieces.Count == 0) return null;
        StringBuilder? content = null, reasoning = null;
        List<ChatToolCallOut>? calls = null;
        foreach (var piece in pieces)
        {
            switch (piece)
            {
                case AnswerText t:
                    _content.Append(t.Text);
                    (content ??= new()).Append(t.Text);
                    break;
                case ReasoningText t:
                    _reasoning.Append(t.Text);
                    (reasoning ??= new()).Append(t.Text);
                    break;
                case ToolCallStarted s:
                    _calls.Add((s.CallId ?? ToolCallIds.New(), s.Name, new StringBuilder()));
                    _inCall = true;
                    (calls ??= []).Add(new ChatToolCallOut(_calls.Count - 1, _calls[^1].Id, "function", new ChatFunctionCallOut(s.Name, "")));
                    break;
                case ToolCallArguments a when _inCall:
                    _calls[^1].Arguments.Append(a.Delta);
                    calls ??= [];
                    if (calls.Count > 0 && calls[^1].Index == _calls.Count - 1)
                    {
                        var last = calls[^1];
                        calls[^1] = last with { Function = last.Function with { Arguments = last.Function.Arguments + a.Delta } };
                    }
                    else
                    {
                        calls.Add(new ChatToolCallOut(_calls.Count - 1, null, null, new ChatFunctionCallOut(null, a.Delta)));
                    }
                    break;
                case ToolCallEnded:
                    _inCall = false;
                    break;
            }
        }
        if (content is null && reasoning is null && calls is null) return null;
        return new ChatMessageOut(null, content?.ToString()) { ReasoningContent = reasoning?.ToString(), ToolCalls = calls };
    }
}
