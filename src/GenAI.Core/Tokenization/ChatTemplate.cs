using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Core.Tokenization.HuggingFace;
using GenAI.Core.Tokenization.Templates;

namespace GenAI.Core.Tokenization;

/// <summary>One chat message with text content, for callers that have nothing more (training data, tests).</summary>
/// <param name="Role">system, developer, user, assistant or tool.</param>
/// <param name="Content">Its text.</param>
public sealed record ChatTurn(string Role, string Content);

/// <summary>What a chat request gives the template besides its messages.</summary>
public sealed record ChatRenderOptions
{
    /// <summary>
    /// The request's tools, as OpenAI defines them (<c>{"type": "function", "function": {"name", "description",
    /// "parameters"}}</c>), passed to the template unchanged; null when the request has none (the template then sees
    /// <c>tools</c> as none, as transformers passes it). Non-null also selects a model's "tool_use" template.
    /// </summary>
    public JsonArray? Tools { get; init; }

    /// <summary>Retrieval documents for templates that read <c>documents</c>; null when none.</summary>
    public JsonArray? Documents { get; init; }

    /// <summary>Whether the prompt ends where the assistant's reply begins (the template's <c>add_generation_prompt</c>).</summary>
    public bool AddGenerationPrompt { get; init; } = true;

    /// <summary>
    /// Extra template variables (vLLM's <c>chat_template_kwargs</c>, e.g. <c>{"enable_thinking": false}</c>), merged
    /// last so they override the special tokens and <c>tools</c>/<c>documents</c>/<c>add_generation_prompt</c>, as in
    /// vLLM; <c>messages</c> cannot be set this way.
    /// </summary>
    public JsonObject? TemplateKwargs { get; init; }
}

/// <summary>
/// Turns a conversation into prompt text as transformers' <c>apply_chat_template(tokenize=False)</c> does: the
/// model's own Jinja template (see <see cref="ChatTemplateFiles"/> for where it is read from) rendered by
/// <see cref="JinjaTemplate"/> with <c>messages</c>, <c>tools</c>, <c>documents</c>, <c>add_generation_prompt</c>,
/// the tokenizer's special-token strings (<c>bos_token</c>, <c>eos_token</c>, ..., <c>additional_special_tokens</c>,
/// transformers' <c>special_tokens_map</c>), <c>raise_exception</c>, <c>strftime_now</c> (today, local time, from the
/// injected clock) and the request's template kwargs. A model without a template gets GenAI's plain default:
/// <c>System: …\nUser: …\nAssistant: …\n…Assistant:</c>, which also asks generation to stop at <c>\nUser:</c>.
/// </summary>
public sealed class ChatTemplate
{
    // GenAI's plain format for models without a template: one "Label: text" line per message; an assistant's tool
    // calls follow its text as the JSON objects the tool instructions ask for; tool results are "Tool:" lines.
    private const string PlainTemplate = """
        {%- macro text(content) -%}
            {%- if content is string -%}
                {{- content -}}
            {%- elif content is iterable and content is not mapping -%}
                {%- for part in content if part is mapping and part.type == 'text' -%}{{- part.text -}}{%- endfor -%}
            {%- endif -%}
        {%- endmacro -%}
        {%- if tools -%}
            {{- 'System: You can call these tools. To call one, answer with {"name": <tool name>, "arguments": <JSON object>}.\n' -}}
            {%- for tool in tools -%}
                {%- set function = tool.function if tool.function is defined else tool -%}
                {{- '- ' ~ function.name -}}
                {%- if function.description -%}{{- ': ' ~ function.description | trim -}}{%- endif -%}
                {%- if function.parameters is defined -%}{{- ' Parameters: ' ~ function.parameters | tojson -}}{%- endif -%}
                {{- '\n' -}}
            {%- endfor -%}
        {%- endif -%}
        {%- for message in messages -%}
            {%- if message.role in ['system', 'developer'] -%}{%- set label = 'System' -%}
            {%- elif message.role == 'assistant' -%}{%- set label = 'Assistant' -%}
            {%- elif message.role == 'tool' -%}{%- set label = 'Tool' -%}
            {%- else -%}{%- set label = 'User' -%}
            {%- endif -%}
            {%- set ns = namespace(parts=[]) -%}
            {%- set body = text(message.content) | trim -%}
            {%- if body -%}{%- set ns.parts = [body] -%}{%- endif -%}
            {%- for call in message.tool_calls or [] -%}
                {%- set function = call.function if call.function is defined else call -%}
                {%- set arguments = function.arguments if function.arguments is defined else {} -%}
                {%- set ns.parts = ns.parts + [{'name': function.name, 'arguments': arguments} | tojson] -%}
            {%- endfor -%}
            {{- label ~ ': ' ~ ns.parts | join(' ') ~ '\n' -}}
        {%- endfor -%}
        {%- if add_generation_prompt -%}{{- 'Assistant:' -}}{%- endif -%}
        """;

    private static readonly JinjaTemplate Plain = JinjaTemplate.Parse(PlainTemplate);

    private readonly IReadOnlyDictionary<string, JinjaTemplate> _templates;
    private readonly IReadOnlyDictionary<string, object?> _specialTokens;
    private readonly TimeProvider _clock;

    private ChatTemplate(IReadOnlyDictionary<string, JinjaTemplate> templates, IReadOnlyDictionary<string, object?> specialTokens,
        bool isModelTemplate, TimeProvider? clock)
    {
        _templates = templates;
        _specialTokens = specialTokens;
        IsModelTemplate = isModelTemplate;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>True when the model's own template is used.</summary>
    public bool IsModelTemplate { get; }

    /// <summary>The model's named templates ("default", and e.g. "tool_use"); empty for GenAI's plain default.</summary>
    public IReadOnlyCollection<string> TemplateNames => IsModelTemplate ? _templates.Keys.ToList() : [];

    /// <summary>Stop strings the template needs (the default template's next-turn marker).</summary>
    public IReadOnlyList<string> Stops => IsModelTemplate ? [] : ["\nUser:"];

    /// <summary>GenAI's plain default template.</summary>
    public static ChatTemplate Default { get; } = new(new Dictionary<string, JinjaTemplate> { ["default"] = Plain }, new Dictionary<string, object?>(), false, null);

    /// <summary>
    /// The template of a model folder, or <see cref="Default"/> when it has none. Its special-token variables are
    /// those <paramref name="tokenizer"/> (the folder's, loaded) resolved, so the template's <c>eos_token</c> is the
    /// tokenizer's EOS; without a tokenizer they are read from the folder's config alone (no class defaults).
    /// <paramref name="clock"/> is what <c>strftime_now</c> reads (the system clock by default). Throws
    /// <see cref="InvalidDataException"/> naming the file when a template does not parse or uses something the
    /// interpreter does not support.
    /// </summary>
    public static ChatTemplate Load(string modelDirectory, TextTokenizer? tokenizer = null, TimeProvider? clock = null)
    {
        var sources = ChatTemplateFiles.ReadTemplates(modelDirectory);
        if (sources.Count == 0) return Default;
        if (!sources.ContainsKey("default"))
        {
            throw new InvalidDataException($"{modelDirectory}: the chat templates ({string.Join(", ", sources.Keys)}) include none named 'default'");
        }
        var templates = new Dictionary<string, JinjaTemplate>(StringComparer.Ordinal);
        foreach (var (name, source) in sources)
        {
            try
            {
                templates[name] = JinjaTemplate.Parse(source.Text);
            }
            catch (TemplateException e)
            {
                string which = name == "default" ? "chat_template" : $"chat template '{name}'";
                throw new InvalidDataException($"{source.Origin}: {which}: {e.Describe()}", e);
            }
        }
        var config = (tokenizer as HuggingFaceTokenizer)?.Config ?? TokenizerConfig.Load(modelDirectory, isKnownToken: null);
        return new ChatTemplate(templates, config.TemplateVariables(), true, clock);
    }

    /// <summary>The prompt text for <paramref name="messages"/>, ready for the assistant's reply.</summary>
    public string Render(IEnumerable<ChatTurn> messages) =>
        Render(messages.Select(m => new JsonObject { ["role"] = m.Role, ["content"] = m.Content }));

    /// <summary>
    /// The prompt text for a chat request. Each message is a JSON object passed to the template as it is (role,
    /// content as a string, null or a list of parts, name, tool_calls, tool_call_id, reasoning_content, anything
    /// else), except that an assistant's <c>tool_calls[].function.arguments</c> sent as a JSON string (OpenAI's wire
    /// format) is parsed into the object templates expect, as vLLM does. Throws <see cref="ArgumentException"/>
    /// when arguments are not valid JSON (naming the message), when the template refuses the conversation through
    /// <c>raise_exception</c> (with the template's message), or when it fails on the input.
    /// </summary>
    public string Render(IEnumerable<JsonObject> messages, ChatRenderOptions? options = null)
    {
        options ??= new ChatRenderOptions();
        var template = options.Tools is not null && _templates.TryGetValue("tool_use", out var toolUse) ? toolUse : _templates["default"];
        var variables = new Dictionary<string, object?>(_specialTokens, StringComparer.Ordinal)
        {
            ["messages"] = Messages(messages),
            ["tools"] = options.Tools,
            ["documents"] = options.Documents,
            ["add_generation_prompt"] = options.AddGenerationPrompt,
            ["raise_exception"] = JinjaTemplate.Function("raise_exception", args => throw new TemplateRaisedException(PythonText.Str(args.FirstOrDefault()))),
            ["strftime_now"] = JinjaTemplate.Function("strftime_now", args => args.FirstOrDefault() is string format
                ? PythonText.Strftime(_clock.GetLocalNow().DateTime, format)
                : throw new TemplateException("strftime_now() takes a format string")),
        };
        if (options.TemplateKwargs is not null)
        {
            foreach (var (name, value) in options.TemplateKwargs)
            {
                if (name == "messages") throw new ArgumentException("chat template kwargs cannot set 'messages'");
                variables[name] = value;
            }
        }
        try
        {
            return template.Render(variables);
        }
        catch (TemplateRaisedException e)
        {
            throw new ArgumentException(e.Message, e);
        }
        catch (TemplateException e)
        {
            throw new ArgumentException($"the model's chat template failed: {e.Describe()}", e);
        }
    }

    // The messages as template values, tool-call arguments parsed from their JSON text.
    private static List<object?> Messages(IEnumerable<JsonObject> messages)
    {
        var list = new List<object?>();
        int index = 0;
        foreach (var message in messages)
        {
            var value = (OrderedDictionary<string, object?>)Values.FromJson(message)!;
            if (Field(value, "role") is "assistant" && Field(value, "tool_calls") is List<object?> calls)
            {
                for (int j = 0; j < calls.Count; j++)
                {
                    if (calls[j] is not IDictionary<string, object?> call || Field(call, "function") is not IDictionary<string, object?> function
                        || Field(function, "arguments") is not string arguments)
                    {
                        continue;
                    }
                    try
                    {
                        using var doc = JsonDocument.Parse(arguments);
                        function["arguments"] = Values.FromJson(doc.RootElement);
                    }
                    catch (JsonException e)
                    {
                        throw new ArgumentException($"messages[{index}].tool_calls[{j}].function.arguments is not valid JSON: {e.Message}", e);
                    }
                }
            }
            list.Add(value);
            index++;
        }
        return list;
    }

    private static object? Field(IDictionary<string, object?> owner, string name) => owner.TryGetValue(name, out var value) ? value : null;
}
