using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Tokenization;

/// <summary>
/// Real models' chat templates rendered exactly as transformers' apply_chat_template renders them: the reference
/// conversations of the tokenizer fixtures, and ChatTemplates/ (real templates with the expected text of several
/// conversations each, produced by Python Jinja2 as transformers configures it; see ChatTemplates/README.md).
/// </summary>
public class RealChatTemplateTests
{
    private static readonly string Folder = Path.Combine(TestPaths.RepoRoot, "tests", "GenAI.Core.Tests", "Tokenization", "ChatTemplates");

    private static readonly Lazy<JsonObject> Cases = new(() => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))!.AsObject());

    public static TheoryData<string, string> TemplateConversations()
    {
        var data = new TheoryData<string, string>();
        foreach (var (template, spec) in Cases.Value["templates"]!.AsObject())
        {
            foreach (var (conversation, _) in spec!["expected"]!.AsObject()) data.Add(template, conversation);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(TemplateConversations))]
    public void RendersAsTransformers(string template, string conversation)
    {
        var spec = Cases.Value["templates"]![template]!;
        var expected = spec["expected"]![conversation]!;
        var input = Cases.Value["conversations"]![conversation]!;
        using var folder = new TempFolder();
        File.Copy(Path.Combine(Folder, spec["file"]!.GetValue<string>()), folder.File("chat_template.jinja"));
        File.WriteAllText(folder.File("tokenizer_config.json"), spec["special_tokens"]!.ToJsonString());
        var now = DateTime.Parse(Cases.Value["now"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        var chat = ChatTemplate.Load(folder.Path, clock: new FixedClock(new DateTimeOffset(now, TimeSpan.Zero)));

        string Render() => chat.Render(Messages(input["messages"]!), new ChatRenderOptions
        {
            Tools = input["tools"]?.AsArray(),
            AddGenerationPrompt = input["add_generation_prompt"]?.GetValue<bool>() ?? true,
            TemplateKwargs = input["template_kwargs"]?.AsObject(),
        });

        if (expected["rendered"] is { } rendered)
        {
            Assert.Equal(rendered.GetValue<string>(), Render());
        }
        else
        {
            // Python failed on this input too; where the template itself refused, the message must be its own.
            var e = Assert.Throws<ArgumentException>(Render);
            if (expected["raised_by_template"]!.GetValue<bool>()) Assert.Equal(expected["error"]!.GetValue<string>(), e.Message);
        }
    }

    public static TheoryData<string, string> ReferenceChats()
    {
        var data = new TheoryData<string, string>();
        foreach (string tokenizer in new[] { "llama3", "qwen3" })
        {
            foreach (var c in ReferenceChat(tokenizer)["cases"]!.AsArray()) data.Add(tokenizer, c!["name"]!.GetValue<string>());
        }
        return data;
    }

    private static JsonObject ReferenceChat(string tokenizer) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.Fixtures, "tokenizers", tokenizer, "reference_chat.json")))!.AsObject();

    [Theory]
    [MemberData(nameof(ReferenceChats))]
    public void RendersTheTokenizerFixturesReferenceChats(string tokenizer, string name)
    {
        var reference = ReferenceChat(tokenizer);
        var c = reference["cases"]!.AsArray().Single(x => x!["name"]!.GetValue<string>() == name)!;
        var chat = ChatTemplate.Load(Path.Combine(TestPaths.Fixtures, "tokenizers", tokenizer));

        string rendered = chat.Render(Messages(c["messages"]!), new ChatRenderOptions
        {
            Tools = c["tools"]?.AsArray(),
            AddGenerationPrompt = c["add_generation_prompt"]!.GetValue<bool>(),
            TemplateKwargs = c["template_kwargs"]?.AsObject(),
        });

        Assert.Equal(c["rendered"]!.GetValue<string>(), rendered);
    }

    [Theory]
    [InlineData("llama3")]
    [InlineData("qwen3")]
    public void PassesTheSpecialTokensTransformersPasses(string tokenizer)
    {
        var expected = ReferenceChat(tokenizer)["template_variables"]!.AsObject();
        var tokens = ReferenceTokenizers.Get(tokenizer).Config.TemplateVariables();
        Assert.Equal(expected.Select(kv => kv.Key).Order(), tokens.Keys.Order());
        foreach (var (key, value) in expected)
        {
            Assert.Equal(value!.ToJsonString(), JsonSerializer.Serialize(tokens[key]));
        }
    }

    private static IEnumerable<JsonObject> Messages(JsonNode messages) => messages.AsArray().Select(m => m!.AsObject());
}
