using System.Runtime.CompilerServices;
using GenAI.Core.Generation.Constraints;
using GenAI.Core.Tokenization;
using GenAI.Server.Hosting;

namespace GenAI.Server.Api;

/// <summary>A tool-call opener in a family's syntax, its closing tag (if any) and what it holds.</summary>
/// <param name="Open">The opener's text (<c>&lt;tool_call&gt;</c>, <c>[TOOL_CALLS]</c>, <c>&lt;|python_tag|&gt;</c>, <c>&lt;|tool_call|&gt;</c>).</param>
/// <param name="Close">The closing tag, or null when the calls run to the output's end.</param>
/// <param name="Body">How the calls are written after the opener.</param>
public sealed record ToolCallMarker(string Open, string? Close, ToolCallBody Body);

/// <summary>Where a prompt leaves a reasoning model's think block.</summary>
public enum ThinkingStart
{
    /// <summary>The model may open it itself as its first token (Qwen3 with thinking enabled), or has none.</summary>
    MayOpen,

    /// <summary>The prompt opened it: the output begins inside (DeepSeek-R1's generation prompt).</summary>
    Inside,

    /// <summary>The prompt already closed it (Qwen3 with <c>enable_thinking: false</c> writes an empty block).</summary>
    Closed,
}

/// <summary>
/// How a model family writes tool calls and thinking, chosen — as vLLM's tool and reasoning parsers are — from the
/// special tokens its tokenizer has: Qwen/Hermes (<c>&lt;tool_call&gt;</c>…<c>&lt;/tool_call&gt;</c>), Mistral
/// (<c>[TOOL_CALLS]</c> and a JSON list), Phi-4-mini (<c>&lt;|tool_call|&gt;</c>…<c>&lt;|/tool_call|&gt;</c>), Llama 3.x
/// (a bare JSON call with <c>parameters</c>, or after <c>&lt;|python_tag|&gt;</c>); any other model writes a bare JSON
/// call when one is required. <c>&lt;think&gt;</c>/<c>&lt;/think&gt;</c> tokens mark a reasoning model. One place for
/// both directions: the <see cref="OutputConstraint"/> that makes the model write the syntax validly, and the
/// <see cref="AssistantOutputParser"/> that reads it back.
/// </summary>
public sealed class ModelOutputSyntax
{
    private static readonly ConditionalWeakTable<ServedModel, ModelOutputSyntax> ByModel = [];

    /// <summary>Qwen 2.5/3 and Hermes: <c>&lt;tool_call&gt;{"name", "arguments"}&lt;/tool_call&gt;</c>, one block per call.</summary>
    public static ToolCallMarker Hermes { get; } = new("<tool_call>", "</tool_call>", ToolCallBody.Object);

    /// <summary>Mistral: <c>[TOOL_CALLS]</c> and a JSON list of calls, to the end.</summary>
    public static ToolCallMarker Mistral { get; } = new("[TOOL_CALLS]", null, ToolCallBody.ObjectOrList);

    /// <summary>Phi-4-mini: <c>&lt;|tool_call|&gt;</c> a call or a list of calls <c>&lt;|/tool_call|&gt;</c>.</summary>
    public static ToolCallMarker Phi4Mini { get; } = new("<|tool_call|>", "<|/tool_call|>", ToolCallBody.ObjectOrList);

    /// <summary>Llama 3.x: <c>&lt;|python_tag|&gt;</c> and JSON calls separated by <c>;</c> (they may also open the answer bare).</summary>
    public static ToolCallMarker PythonTag { get; } = new("<|python_tag|>", null, ToolCallBody.Sequence);

    private readonly TextTokenizer _tokenizer;
    private readonly Dictionary<string, int> _ids = [];

    private ModelOutputSyntax(TextTokenizer tokenizer)
    {
        _tokenizer = tokenizer;
        bool Has(string token)
        {
            if (tokenizer is not HuggingFaceTokenizer hf || hf.TokenToId(token) is not int id) return false;
            _ids[token] = id;
            return true;
        }

        if (Has("<think>") && Has("</think>"))
        {
            ThinkOpen = "<think>";
            ThinkClose = "</think>";
        }
        if (Has("<tool_call>") && Has("</tool_call>"))
        {
            Family = "hermes";
            Markers = [Hermes];
        }
        else if (Has("[TOOL_CALLS]"))
        {
            Family = "mistral";
            Markers = [Mistral];
        }
        else if (Has("<|tool_call|>") && Has("<|/tool_call|>"))
        {
            Family = "phi4_mini";
            Markers = [Phi4Mini];
        }
        else if (Has("<|start_header_id|>") && Has("<|eot_id|>"))
        {
            Family = "llama3_json";
            BareJsonBody = ToolCallBody.Sequence;
            Markers = Has("<|python_tag|>") ? [PythonTag] : [];
        }
        _thinkText = SpecialText([ThinkOpen, ThinkClose]);
        _callText = SpecialText([.. Markers.SelectMany(m => new[] { m.Open, m.Close }), ThinkOpen, ThinkClose]);
    }

    private readonly IReadOnlyDictionary<int, string> _thinkText;
    private readonly IReadOnlyDictionary<int, string> _callText;

    // Special tokens bring no text to the output; these few are written as their text so the parser sees them.
    private Dictionary<int, string> SpecialText(IEnumerable<string?> tags)
    {
        var text = new Dictionary<int, string>();
        foreach (string? tag in tags)
        {
            if (tag is not null && _ids.TryGetValue(tag, out int id) && _tokenizer.IsSpecialToken(id)) text[id] = tag;
        }
        return text;
    }

    /// <summary>The family, as vLLM names its parser: hermes, mistral, phi4_mini, llama3_json, or json (none known).</summary>
    public string Family { get; } = "json";

    /// <summary>The think block's opener, when the model reasons.</summary>
    public string? ThinkOpen { get; }

    /// <summary>The think block's closing tag.</summary>
    public string? ThinkClose { get; }

    /// <summary>Tool-call openers the model writes itself (tool_choice auto).</summary>
    public IReadOnlyList<ToolCallMarker> Markers { get; } = [];

    /// <summary>Llama: a JSON value opening the answer is a tool call (read this way); null for other families.</summary>
    public ToolCallBody? BareJsonBody { get; }

    /// <summary>
    /// Special tokens of this syntax the engine must write into the text (<c>SamplingParameters.SpecialTokenText</c>): the
    /// think tags, and the call tags when <paramref name="toolCalls"/> (else a Llama <c>&lt;|python_tag|&gt;</c> stays out of the answer).
    /// </summary>
    public IReadOnlyDictionary<int, string> SpecialTokenText(bool toolCalls) => toolCalls ? _callText : _thinkText;

    /// <summary>The key of a call's arguments in this family's JSON (Llama 3.1 writes <c>parameters</c>).</summary>
    public string ArgumentsKey => Family == "llama3_json" ? "parameters" : "arguments";

    /// <summary>The syntax of a served model (detected once per revision).</summary>
    public static ModelOutputSyntax For(ServedModel model) => ByModel.GetValue(model, m => For(m.Tokenizer));

    /// <summary>The syntax a tokenizer's special tokens imply.</summary>
    public static ModelOutputSyntax For(TextTokenizer tokenizer) => new(tokenizer);

    /// <summary>The parser for one output.</summary>
    /// <param name="toolCalls">Tools are offered and tool_choice is not none.</param>
    /// <param name="forced">tool_choice is required or a named function (the output is calls by construction).</param>
    /// <param name="thinking">Where the prompt left the think block.</param>
    public IAssistantOutputParser CreateParser(bool toolCalls, bool forced, ThinkingStart thinking)
    {
        var bareJson = toolCalls ? BareJsonBody ?? (forced && Markers.Count == 0 ? ToolCallBody.ObjectOrList : null) : null;
        bool thinks = thinking != ThinkingStart.Closed;
        return new AssistantOutputParser(thinks ? ThinkOpen : null, thinks ? ThinkClose : null, toolCalls ? Markers : [], bareJson, thinking == ThinkingStart.Inside);
    }

    /// <summary>Where the prompt leaves the think block: the last token that is not whitespace decides.</summary>
    public ThinkingStart ThinkingAt(IReadOnlyList<int> prompt)
    {
        if (ThinkOpen is null) return ThinkingStart.MayOpen;
        for (int i = prompt.Count - 1; i >= 0; i--)
        {
            int token = prompt[i];
            if (token == _ids[ThinkOpen]) return ThinkingStart.Inside;
            if (token == _ids[ThinkClose!]) return ThinkingStart.Closed;
            var bytes = _tokenizer.TokenBytes(token);
            if (bytes.IsEmpty || !bytes.Trim(" \t\r\n"u8).IsEmpty) break;
        }
        return ThinkingStart.MayOpen;
    }

    /// <summary>
    /// The constraint that makes the model's calls valid: for tool_choice required or a named function the whole answer
    /// is calls in this syntax (after a think block, if the model opens one); for auto, a call the model opens is
    /// constrained from its opener on. Null when nothing is constrained (tool_choice none, or auto on a model whose
    /// syntax is unknown).
    /// </summary>
    public OutputConstraint? Constraint(ChatToolRequest tools, IReadOnlyList<int> prompt)
    {
        if (!tools.Calls) return null;
        bool forced = tools.Forced;
        if (!forced && Markers.Count == 0 && BareJsonBody is null) return null;
        bool parallel = tools.Parallel && tools.Function is null;
        var schemas = tools.Function is { } name ? tools.Schemas.Where(s => s.Name == name).ToList() : tools.Schemas;
        bool list = Family is "mistral" or "phi4_mini" || (Family == "json" && parallel);
        var shape = new ToolCallShape { ArgumentsKey = ArgumentsKey, Parallel = list, MaxCalls = list && !parallel ? 1 : null };
        var json = JsonConstraintCache.Shared.ForToolCalls(schemas, shape);
        var constraint = new OutputConstraint(json) { Parameter = forced ? "tool_choice" : "tools", Thinking = Thinking(prompt, forced) };
        switch (Family)
        {
            case "hermes":
                return forced
                    ? constraint with { Prefix = Encode("<tool_call>\n"), Suffix = Encode("\n</tool_call>"), Separator = parallel ? Encode("\n") : null }
                    : constraint with { TriggerTokenIds = [_ids["<tool_call>"]], AfterTrigger = Encode("\n"), Suffix = Encode("\n</tool_call>"), FreeAfterValue = parallel };
            case "mistral":
                return forced
                    ? constraint with { Prefix = [_ids["[TOOL_CALLS]"]], LeadingWhitespace = 1 }
                    : constraint with { TriggerTokenIds = [_ids["[TOOL_CALLS]"]], LeadingWhitespace = 1, FreeAfterValue = false };
            case "phi4_mini":
                return forced
                    ? constraint with { Prefix = [_ids["<|tool_call|>"]], Suffix = [_ids["<|/tool_call|>"]] }
                    : constraint with { TriggerTokenIds = [_ids["<|tool_call|>"]], Suffix = [_ids["<|/tool_call|>"]], FreeAfterValue = false };
            case "llama3_json":
                return forced
                    ? constraint with { Separator = parallel ? Encode("; ") : null }
                    : constraint with
                    {
                        TriggerTokenIds = Markers.Count > 0 ? [_ids["<|python_tag|>"]] : [], ValueMayOpenAnswer = true, LeadingWhitespace = 1, FreeAfterValue = false,
                    };
            default:
                return constraint; // the answer is the call (or the list of calls) itself
        }
    }

    /// <summary>
    /// <paramref name="parameters"/> set up for <paramref name="tools"/>: the tool-call <see cref="Constraint"/> (when there
    /// is one; a <c>response_format</c> constraint already there is kept for tool_choice auto, and refused with required)
    /// and the special tokens the parser must see in the text. What chat completions and the Responses API both call.
    /// </summary>
    public GenAI.Core.Generation.SamplingParameters ApplyTo(GenAI.Core.Generation.SamplingParameters parameters, ChatToolRequest tools, IReadOnlyList<int> prompt)
    {
        parameters = parameters with { SpecialTokenText = SpecialTokenText(tools.Calls) };
        if (parameters.Constraint is not null)
        {
            if (tools.Forced) throw ApiException.Invalid("tool_choice required (or a named function) cannot be combined with a JSON response_format", "tool_choice");
            return parameters; // auto: the answer is in the requested format
        }
        if (parameters.NumBeams > 1)
        {
            if (tools.Forced) throw ApiException.Invalid("tool_choice required (or a named function) is not supported with beam search", "tool_choice");
            return parameters; // auto with beams: calls are parsed, not constrained
        }
        return Constraint(tools, prompt) is { } constraint ? parameters with { Constraint = constraint } : parameters;
    }

    private ThinkBlock? Thinking(IReadOnlyList<int> prompt, bool forced)
    {
        if (ThinkOpen is null) return null;
        return ThinkingAt(prompt) switch
        {
            ThinkingStart.Closed => null,
            ThinkingStart.Inside => new ThinkBlock(_ids[ThinkOpen], _ids[ThinkClose!]) { StartsInside = true, AfterClose = forced ? Encode("\n\n") : [] },
            _ => new ThinkBlock(_ids[ThinkOpen], _ids[ThinkClose!]) { AfterClose = forced ? Encode("\n\n") : [] },
        };
    }

    private IReadOnlyList<int> Encode(string text) => _tokenizer.EncodeWithSpecialTokens(text);
}
