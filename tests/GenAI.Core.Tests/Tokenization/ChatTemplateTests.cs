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

    private static string Render(string template, IEnumerable<ChatTurn> turns, string bos = "<s>", string eos = "</s>")
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("tokenizer_config.json"), System.Text.Json.JsonSerializer.Serialize(new { chat_template = template, bos_token = bos, eos_token = eos }));
        return ChatTemplate.Load(temp.Path).Render(turns);
    }

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
        var e = Assert.Throws<ArgumentException>(() => Render(template, [new ChatTurn("user", "a"), new ChatTurn("user", "b")]));
        Assert.Contains("must alternate", e.Message);
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
        Assert.Equal("System: You are terse.\nUser: Hi!\nAssistant: Hello.\nUser: Bye?\nAssistant:", template.Render(Conversation));
        Assert.Equal(["\nUser:"], template.Stops);
    }

    [Fact]
    public void UnsupportedSyntaxIsNamed()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("tokenizer_config.json"), """{"chat_template": "{% macro x() %}{% endmacro %}"}""");
        var e = Assert.Throws<InvalidDataException>(() => ChatTemplate.Load(temp.Path));
        Assert.Contains("macro", e.Message);
    }
}
