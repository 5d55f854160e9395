using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Core.Tokenization;
using GenAI.Core.Tokenization.Templates;

namespace GenAI.Core.Tests.Tokenization;

/// <summary>Chat templates as Hugging Face models ship them, rendered as transformers' apply_chat_template renders them.</summary>
public class ChatTemplateTests
{
    private static readonly ChatTurn[] Conversation =
    [
        new("system", "You are terse."),
        new("user", "Hi!"),
        new("assistant", "Hello."),
        new("user", "Bye?"),
    ];

    private static readonly JsonArray WeatherTool = (JsonArray)JsonNode.Parse("""
        [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather. ",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
        """)!;

    private static ChatTemplate Load(string template, object? tokenizerConfig = null, TimeProvider? clock = null)
    {
        using var temp = new TempFolder();
        var config = JsonSerializer.SerializeToNode(tokenizerConfig ?? new { bos_token = "<s>", eos_token = "</s>" })!.AsObject();
        config["chat_template"] = template;
        File.WriteAllText(temp.File("tokenizer_config.json"), config.ToJsonString());
        return ChatTemplate.Load(temp.Path, clock: clock);
    }

    private static string Render(string template, IEnumerable<ChatTurn> turns) => Load(template).Render(turns);

    private static List<JsonObject> Messages(string json) => JsonNode.Parse(json)!.AsArray().Select(m => m!.AsObject()).ToList();

    [Fact]
    public void ChatMl()
    {
        const string template = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
        Assert.Equal(
            "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nBye?<|im_end|>\n<|im_start|>assistant\n",
            Render(template, Conversation));
    }

    [Fact]
    public void Zephyr()
    {
        const string template = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";
        Assert.Equal(
            "<|system|>\nYou are terse.</s>\n<|user|>\nHi!</s>\n<|assistant|>\nHello.</s>\n<|user|>\nBye?</s>\n<|assistant|>\n",
            Render(template, Conversation));
    }

    [Fact]
    public void Llama2WithSystemMessageAndRaiseException()
    {
        const string template = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
        Assert.Equal(
            "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi! [/INST] Hello. </s><s>[INST] Bye? [/INST]",
            Render(template, Conversation));
        // The template's refusal is an ArgumentException carrying exactly its message (the server's 400 names messages).
        var e = Assert.Throws<ArgumentException>(() => Render(template, [new ChatTurn("user", "a"), new ChatTurn("user", "b")]));
        Assert.Equal("Conversation roles must alternate user/assistant/user/assistant/...", e.Message);
        Assert.IsType<TemplateRaisedException>(e.InnerException);
    }

    [Fact]
    public void WhitespaceControlFiltersTestsAndLiterals()
    {
        var template = JinjaTemplate.Parse("{%- for m in messages -%}\n  {{ m.role | upper }}:{{ m.content | trim }}{% if not loop.last %}, {% endif %}\n{%- endfor %}{{ ' ' ~ (messages | length) }}{{ ' x' if undefined_thing is not defined else ' y' }}{{ ' ' ~ [1, 2][-1] }}{{ ' ' ~ {'a': 3}['a'] }}");
        var messages = new List<object?>
        {
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = "  a " },
            new Dictionary<string, object?> { ["role"] = "assistant", ["content"] = "b" },
        };
        Assert.Equal("USER:a, ASSISTANT:b 2 x 2 3", template.Render(new Dictionary<string, object?> { ["messages"] = messages }));
    }

    [Fact]
    public void DefaultTemplateWithoutAModelTemplate()
    {
        using var temp = new TempFolder();
        var template = ChatTemplate.Load(temp.Path);
        Assert.False(template.IsModelTemplate);
        Assert.Empty(template.TemplateNames);
        Assert.Equal("System: You are terse.\nUser: Hi!\nAssistant: Hello.\nUser: Bye?\nAssistant:", template.Render(Conversation));
        Assert.Equal(["\nUser:"], template.Stops);
    }

    [Fact]
    public void DefaultTemplateRendersToolsToolCallsAndResults()
    {
        var messages = Messages("""
            [{"role": "developer", "content": [{"type": "text", "text": "Be "}, {"type": "text", "text": "brief."}]},
             {"role": "user", "content": " Weather in Paris? "},
             {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
             {"role": "tool", "tool_call_id": "call_1", "content": "21 °C"}]
            """);
        string prompt = ChatTemplate.Default.Render(messages, new ChatRenderOptions { Tools = WeatherTool });
        Assert.Equal(
            "System: You can call these tools. To call one, answer with {\"name\": <tool name>, \"arguments\": <JSON object>}.\n" +
            "- get_weather: Get the weather. Parameters: {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}\n" +
            "System: Be brief.\nUser: Weather in Paris?\nAssistant: {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\nTool: 21 °C\nAssistant:",
            prompt);
        Assert.Equal("User: Hi\nAssistant: Hello\n",
            ChatTemplate.Default.Render(Messages("""[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]"""),
                new ChatRenderOptions { AddGenerationPrompt = false }));
    }

    [Fact]
    public void UnsupportedSyntaxIsNamed()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("tokenizer_config.json"), """{"chat_template": "{% include 'header.jinja' %}"}""");
        var e = Assert.Throws<InvalidDataException>(() => ChatTemplate.Load(temp.Path));
        Assert.Contains("tokenizer_config.json", e.Message);
        Assert.Contains("{% include %}", e.Message);
    }

    [Fact]
    public void ChatTemplateJinjaWinsOverTheTokenizerConfig()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("tokenizer_config.json"), """{"chat_template": "from the config", "eos_token": "</s>"}""");
        File.WriteAllText(temp.File("chat_template.jinja"), "{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}\n");
        var template = ChatTemplate.Load(temp.Path);
        Assert.True(template.IsModelTemplate);
        Assert.Equal("Hi!</s>", template.Render([new ChatTurn("user", "Hi!")])); // Jinja2 also drops the file's final newline
    }

    [Fact]
    public void ChatTemplateJsonIsRead()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("chat_template.json"), """{"chat_template": "{{ messages[0].content }}!"}""");
        Assert.Equal("Hi!", ChatTemplate.Load(temp.Path).Render([new ChatTurn("user", "Hi")]));
    }

    [Fact]
    public void NamedTemplatesUseDefaultAndToolUseWhenToolsAreGiven()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("tokenizer_config.json"), """
            {"chat_template": [{"name": "default", "template": "plain"}, {"name": "tool_use", "template": "tools: {{ tools | length }}"}]}
            """);
        Directory.CreateDirectory(temp.File("additional_chat_templates"));
        File.WriteAllText(Path.Combine(temp.File("additional_chat_templates"), "rag.jinja"), "rag");
        var template = ChatTemplate.Load(temp.Path);
        Assert.Equal(["default", "rag", "tool_use"], template.TemplateNames.Order(StringComparer.Ordinal));
        var messages = Messages("""[{"role": "user", "content": "Hi"}]""");
        Assert.Equal("plain", template.Render(messages));
        Assert.Equal("tools: 1", template.Render(messages, new ChatRenderOptions { Tools = WeatherTool }));
        Assert.Equal("tools: 0", template.Render(messages, new ChatRenderOptions { Tools = [] })); // transformers: tools is not None
    }

    [Fact]
    public void NamedTemplatesWithoutADefaultAreRefused()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("tokenizer_config.json"), """{"chat_template": [{"name": "tool_use", "template": "x"}]}""");
        var e = Assert.Throws<InvalidDataException>(() => ChatTemplate.Load(temp.Path));
        Assert.Contains("'default'", e.Message);
    }

    [Fact]
    public void SpecialTokensAreThoseTransformersPasses()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("tokenizer_config.json"), """
            {"chat_template": "{{ bos_token }}|{{ eos_token }}|{{ pad_token is defined }}|{{ unk_token is defined }}|{{ additional_special_tokens }}",
             "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false}, "eos_token": "</s>", "unk_token": null,
             "additional_special_tokens": ["<a>", {"content": "<b>"}]}
            """);
        File.WriteAllText(temp.File("special_tokens_map.json"), """{"eos_token": "<|end|>", "pad_token": "<pad>"}""");
        Assert.Equal("<s>|<|end|>|True|False|['<a>', '<b>']", ChatTemplate.Load(temp.Path).Render([new ChatTurn("user", "x")]));
    }

    [Fact]
    public void TemplateAndTokenizerResolveSpecialTokensByOneRule()
    {
        // A config with added_tokens_decoder: transformers ignores special_tokens_map.json, for the tokenizer's EOS
        // and for the template's eos_token alike.
        using var temp = new TempFolder();
        var json = HuggingFaceTokenizerTests.MinimalTokenizerJson();
        json["added_tokens"] = new JsonArray(
            new JsonObject { ["id"] = 3, ["content"] = "</s>", ["special"] = true, ["normalized"] = false },
            new JsonObject { ["id"] = 4, ["content"] = "<|end|>", ["special"] = true, ["normalized"] = false });
        File.WriteAllText(temp.File("tokenizer.json"), json.ToJsonString());
        File.WriteAllText(temp.File("tokenizer_config.json"), """
            {"chat_template": "{{ eos_token }}|{{ bos_token is defined }}|{{ unk_token }}", "eos_token": "</s>",
             "added_tokens_decoder": {"3": {"content": "</s>", "special": true}, "4": {"content": "<|end|>", "special": true}}}
            """);
        File.WriteAllText(temp.File("special_tokens_map.json"), """{"eos_token": "<|end|>", "unk_token": "<|end|>"}""");
        var tokenizer = TokenizerLoader.Load(temp.Path);
        Assert.Equal("</s>", tokenizer.EosToken);
        Assert.Equal("</s>|False|", ChatTemplate.Load(temp.Path, tokenizer).Render([new ChatTurn("user", "x")]));
        Assert.Equal("</s>|False|", ChatTemplate.Load(temp.Path).Render([new ChatTurn("user", "x")]));

        // The tokenizer class's defaults reach the template with the tokenizer: Llama's </s> when the config names none.
        File.WriteAllText(temp.File("tokenizer_config.json"), """{"chat_template": "{{ eos_token }}", "tokenizer_class": "LlamaTokenizerFast", "add_bos_token": false}""");
        File.Delete(temp.File("special_tokens_map.json"));
        tokenizer = TokenizerLoader.Load(temp.Path);
        Assert.Equal("</s>", tokenizer.EosToken);
        Assert.Equal("</s>", ChatTemplate.Load(temp.Path, tokenizer).Render([new ChatTurn("user", "x")]));
    }

    [Fact]
    public void MessagesReachTheTemplateWithEveryField()
    {
        var template = Load("""
            {%- for m in messages -%}
            {{ m.role }}|{{ m.content is none }}|{{ m.name }}|{{ m.tool_call_id }}|{{ m.reasoning_content }}|{{ m.content[1].text if m.content is sequence and m.content is not string }};
            {%- endfor -%}
            """);
        var messages = Messages("""
            [{"role": "user", "name": "ann", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
             {"role": "assistant", "content": null, "reasoning_content": "thought"},
             {"role": "tool", "tool_call_id": "call_9", "content": "r"}]
            """);
        Assert.Equal("user|False|ann|||b;assistant|True|||thought|;tool|False||call_9||;", template.Render(messages));
    }

    [Fact]
    public void ToolCallArgumentsReachTheTemplateAsObjects()
    {
        var template = Load("{% set call = messages[0].tool_calls[0].function %}{{ call.arguments.city }} {{ call.arguments | tojson }} {{ call.arguments is mapping }}");
        var messages = Messages("""
            [{"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
              "function": {"name": "get_weather", "arguments": "{\"city\": \"Zürich\", \"days\": 2, \"ratio\": 1.0}"}}]}]
            """);
        Assert.Equal("Zürich {\"city\": \"Zürich\", \"days\": 2, \"ratio\": 1.0} True", template.Render(messages));
        // The caller's message is left as it was.
        Assert.Equal(JsonValueKind.String, messages[0]["tool_calls"]![0]!["function"]!["arguments"]!.GetValueKind());
    }

    [Fact]
    public void ToolCallArgumentsThatAreNotJsonNameTheMessage()
    {
        var messages = Messages("""
            [{"role": "user", "content": "Weather?"},
             {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{city: Paris"}}]}]
            """);
        var e = Assert.Throws<ArgumentException>(() => Load("{{ messages | length }}").Render(messages));
        Assert.Contains("messages[1].tool_calls[0].function.arguments is not valid JSON", e.Message);
    }

    [Fact]
    public void ToolsAndDocumentsAreNoneWhenTheRequestHasNone()
    {
        var template = Load("{{ tools is defined }} {{ tools is none }} {{ documents is none }} {{ tools | tojson if tools else '' }}");
        var messages = Messages("""[{"role": "user", "content": "Hi"}]""");
        Assert.Equal("True True True ", template.Render(messages));
        Assert.StartsWith("True False True [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\"",
            template.Render(messages, new ChatRenderOptions { Tools = WeatherTool }));
    }

    [Fact]
    public void TemplateKwargsBecomeVariables()
    {
        var template = Load("{{ enable_thinking }} {{ add_generation_prompt }} {{ eos_token }}");
        var messages = Messages("""[{"role": "user", "content": "Hi"}]""");
        var kwargs = JsonNode.Parse("""{"enable_thinking": false, "eos_token": "<eos>"}""")!.AsObject();
        Assert.Equal("False True <eos>", template.Render(messages, new ChatRenderOptions { TemplateKwargs = kwargs }));
        var e = Assert.Throws<ArgumentException>(() =>
            template.Render(messages, new ChatRenderOptions { TemplateKwargs = new JsonObject { ["messages"] = new JsonArray() } }));
        Assert.Contains("messages", e.Message);
    }

    [Fact]
    public void StrftimeNowReadsTheInjectedClock()
    {
        var clock = new FixedClock(new DateTimeOffset(2025, 3, 7, 9, 5, 0, TimeSpan.Zero));
        var template = Load("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%-d %B %Y, %A %H:%M') }}", clock: clock);
        Assert.Equal("07 Mar 2025|7 March 2025, Friday 09:05", template.Render([new ChatTurn("user", "x")]));
    }

    [Fact]
    public void ATemplateFailingOnTheInputIsAnArgumentException()
    {
        var template = Load("{{ messages[0].content + 1 }}");
        var e = Assert.Throws<ArgumentException>(() => template.Render([new ChatTurn("user", "x")]));
        Assert.Contains("the model's chat template failed", e.Message);
        Assert.Contains("can only concatenate str (not \"int\") to str", e.Message);
    }
}
