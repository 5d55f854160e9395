using System.Text;
using System.Text.Json;

namespace GenAI.Server.Api;

/// <summary>How a family writes the JSON of its tool calls after the opener.</summary>
public enum ToolCallBody
{
    /// <summary>One call object (Qwen/Hermes inside <c>&lt;tool_call&gt;</c>).</summary>
    Object,

    /// <summary>One call object or a JSON list of them (Mistral's <c>[TOOL_CALLS]</c>, Phi-4-mini's <c>&lt;|tool_call|&gt;</c>).</summary>
    ObjectOrList,

    /// <summary>Call objects (or lists) separated by <c>;</c> (Llama 3.x's JSON calls, as vLLM's llama3_json parser reads them).</summary>
    Sequence,
}

/// <summary>
/// Reads tool calls — <c>{"name": ..., "arguments" | "parameters": {...}}</c> objects — one character at a time as the
/// model writes them, and says what it learnt as <see cref="AssistantOutputPiece"/>s: a call starts once its name is
/// known, its arguments stream as they are written (when they are an object), and it ends with its object. It tracks
/// only strings and nesting, not full JSON validity: inside a constrained call the grammar already guarantees it.
/// </summary>
internal sealed class ToolCallJsonReader(ToolCallBody body)
{
    /// <summary>What a character meant.</summary>
    public enum Step
    {
        /// <summary>Taken; the calls go on.</summary>
        Continue,

        /// <summary>Taken, and it closed the last call: the body is over.</summary>
        Done,

        /// <summary>Not taken: it is not part of the calls (the body ended before it).</summary>
        Rejected,
    }

    private enum Top { BeforeValue, ListBeforeItem, ListAfterItem, InCall, AfterValue, AfterSeparator }

    private Top _top = Top.BeforeValue;
    private bool _inList;
    private CallReader? _call;

    /// <summary>True while a call object is open.</summary>
    public bool InCall => _call is not null;

    /// <summary>Feeds one character; pieces it completes are added to <paramref name="output"/>.</summary>
    public Step Feed(char c, List<AssistantOutputPiece> output)
    {
        bool ws = char.IsWhiteSpace(c);
        switch (_top)
        {
            case Top.BeforeValue:
            case Top.AfterSeparator:
                if (ws) return Step.Continue;
                if (c == '{') return Open(c, output);
                if (c == '[' && body != ToolCallBody.Object)
                {
                    _inList = true;
                    _top = Top.ListBeforeItem;
                    return Step.Continue;
                }
                return Step.Rejected;
            case Top.ListBeforeItem:
                if (ws) return Step.Continue;
                if (c == '{') return Open(c, output);
                if (c == ']') return EndValue();
                return Step.Rejected;
            case Top.ListAfterItem:
                if (ws) return Step.Continue;
                if (c == ',')
                {
                    _top = Top.ListBeforeItem;
                    return Step.Continue;
                }
                if (c == ']') return EndValue();
                return Step.Rejected;
            case Top.InCall:
                if (!_call!.Feed(c, output)) return Step.Continue;
                _call = null;
                if (_inList)
                {
                    _top = Top.ListAfterItem;
                    return Step.Continue;
                }
                return EndValue();
            case Top.AfterValue: // Sequence only: another call after ';'
                if (ws) return Step.Continue;
                if (c == ';')
                {
                    _top = Top.AfterSeparator;
                    return Step.Continue;
                }
                return Step.Rejected;
        }
        return Step.Rejected;
    }

    /// <summary>Sends argument text gathered since the last flush (arguments stream in as few pieces as the input allows).</summary>
    public void Flush(List<AssistantOutputPiece> output) => _call?.Flush(output);

    /// <summary>The output ended: an open call with a name is ended (its arguments as written); one without is text.</summary>
    public void Finish(List<AssistantOutputPiece> output)
    {
        _call?.Finish(output);
        _call = null;
    }

    private Step Open(char c, List<AssistantOutputPiece> output)
    {
        _call = new CallReader();
        _call.Feed(c, output);
        _top = Top.InCall;
        return Step.Continue;
    }

    private Step EndValue()
    {
        _inList = false;
        if (body == ToolCallBody.Sequence)
        {
            _top = Top.AfterValue;
            return Step.Continue;
        }
        return Step.Done;
    }

    /// <summary>One call object: the name and arguments properties at its top level, other keys ignored.</summary>
    private sealed class CallReader
    {
        private enum Slot { KeyExpected, InKey, ColonExpected, ValueExpected, InValue, CommaExpected }

        private readonly StringBuilder _raw = new();
        private readonly StringBuilder _key = new();
        private Slot _slot = Slot.KeyExpected;
        private int _depth;
        private bool _inString;
        private bool _escape;
        private string? _valueKey;
        private int _valueStart;
        private bool _valueIsString;
        private string? _name;
        private bool _started;
        private int _argumentsStart = -1;
        private int _argumentsEnd = -1;
        private bool _argumentsNested;
        private int _argumentsSent;
        private string? _argumentsText;

        /// <summary>Takes one character of the object; true when it closed the object.</summary>
        public bool Feed(char c, List<AssistantOutputPiece> output)
        {
            _raw.Append(c);
            if (_depth == 0)
            {
                _depth = 1; // the opening brace
                return false;
            }
            if (_inString)
            {
                if (_escape) _escape = false;
                else if (c == '\\') _escape = true;
                else if (c == '"')
                {
                    _inString = false;
                    if (_slot == Slot.InKey) _slot = Slot.ColonExpected;
                    else if (_slot == Slot.InValue && _depth == 1 && _valueIsString) EndValue(_raw.Length, output);
                    return false;
                }
                if (_slot == Slot.InKey) _key.Append(c);
                return false;
            }
            if (_depth > 1)
            {
                if (c == '"') _inString = true;
                else if (c is '{' or '[') _depth++;
                else if (c is '}' or ']')
                {
                    _depth--;
                    if (_depth == 1 && _slot == Slot.InValue) EndValue(_raw.Length, output);
                }
                return false;
            }
            // Depth 1: the call object's own properties.
            switch (_slot)
            {
                case Slot.KeyExpected:
                    if (c == '"')
                    {
                        _key.Clear();
                        _inString = true;
                        _slot = Slot.InKey;
                    }
                    else if (c == '}') return Close(output);
                    return false;
                case Slot.ColonExpected:
                    if (c == ':') _slot = Slot.ValueExpected;
                    return false;
                case Slot.ValueExpected:
                    if (char.IsWhiteSpace(c)) return false;
                    _valueKey = Unescape(_key.ToString());
                    _valueStart = _raw.Length - 1;
                    _valueIsString = c == '"';
                    _slot = Slot.InValue;
                    if (IsArguments(_valueKey))
                    {
                        _argumentsStart = _valueStart;
                        _argumentsNested = c is '{' or '[';
                    }
                    if (c == '"') _inString = true;
                    else if (c is '{' or '[') _depth++;
                    return false;
                case Slot.InValue: // a number, true, false or null
                    if (c is ',' or '}' || char.IsWhiteSpace(c))
                    {
                        EndValue(_raw.Length - 1, output);
                        if (c == ',') _slot = Slot.KeyExpected;
                        else if (c == '}') return Close(output);
                    }
                    return false;
                case Slot.CommaExpected:
                    if (c == ',') _slot = Slot.KeyExpected;
                    else if (c == '}') return Close(output);
                    return false;
            }
            return false;
        }

        private static bool IsArguments(string key) => key is "arguments" or "parameters";

        private void EndValue(int end, List<AssistantOutputPiece> output)
        {
            _slot = Slot.CommaExpected;
            string text = _raw.ToString(_valueStart, end - _valueStart);
            if (_valueKey == "name" && _name is null && _valueIsString)
            {
                _name = Unescape(text[1..^1]);
                Start(output);
            }
            else if (IsArguments(_valueKey!))
            {
                _argumentsEnd = end;
                // OpenAI's arguments are JSON text: a string value is that text already; anything else is sent as written.
                _argumentsText = _valueIsString ? Unescape(text[1..^1]) : null;
            }
        }

        private void Start(List<AssistantOutputPiece> output)
        {
            if (_started || _name is null) return;
            _started = true;
            output.Add(new ToolCallStarted(_name));
            Flush(output);
        }

        /// <summary>Sends the object- or list-valued arguments written since the last call.</summary>
        public void Flush(List<AssistantOutputPiece> output)
        {
            if (!_started || _argumentsStart < 0 || !_argumentsNested) return;
            int end = _argumentsEnd >= 0 ? _argumentsEnd : _raw.Length;
            int from = _argumentsStart + _argumentsSent;
            if (end > from)
            {
                output.Add(new ToolCallArguments(_raw.ToString(from, end - from)));
                _argumentsSent = end - _argumentsStart;
            }
        }

        private bool Close(List<AssistantOutputPiece> output)
        {
            Finish(output);
            return true;
        }

        public void Finish(List<AssistantOutputPiece> output)
        {
            if (_name is null)
            {
                // Not a call after all (no name): what was written is answer text.
                output.Add(new AnswerText(_raw.ToString()));
                return;
            }
            Start(output);
            if (_argumentsStart < 0) output.Add(new ToolCallArguments("{}"));
            else if (_argumentsNested) Flush(output);
            else if (_argumentsText is not null) output.Add(new ToolCallArguments(_argumentsText));
            else if (_argumentsEnd >= 0) output.Add(new ToolCallArguments(_raw.ToString(_argumentsStart, _argumentsEnd - _argumentsStart)));
            output.Add(new ToolCallEnded());
        }

        private static string Unescape(string jsonStringContent)
        {
            if (!jsonStringContent.Contains('\\')) return jsonStringContent;
            try
            {
                return JsonSerializer.Deserialize<string>("\"" + jsonStringContent + "\"") ?? jsonStringContent;
            }
            catch (JsonException)
            {
                return jsonStringContent;
            }
        }
    }
}
