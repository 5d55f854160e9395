using System.Text;
using System.Text.Json;
using GenAI.Server.Api;
using GenAI.Tests.Shared;

namespace GenAI.Server.Tests;

/// <summary>
/// The per-family output parsers on hand-written model outputs: answer text, a think block, text before a call, two
/// parallel calls — the same result whether the output arrives whole or split into pieces of 1, 2, 3 or 7 characters.
/// Family detection from the real Qwen3 and Llama 3 tokenizers.
/// </summary>
public sealed class AssistantOutputParserTests
{
    private sealed record Parsed(string Content, string Reasoning, List<(string Name, string Arguments)> Calls);

    private static Parsed Parse(Func<IAssistantOutputParser> create, string output)
    {
        Parsed? first = null;
        foreach (int size in new[] { output.Length, 1, 2, 3, 7 })
        {
            var parser = create();
            var pieces = new List<AssistantOutputPiece>();
            for (int i = 0; i < output.Length; i += Math.Max(1, size)) pieces.AddRange(parser.Push(output.Substring(i, Math.Min(size, output.Length - i))));
            pieces.AddRange(parser.Finish());
            var parsed = Fold(pieces);
            if (first is null) first = parsed;
            else
            {
                Assert.Equal(first.Content, parsed.Content);
                Assert.Equal(first.Reasoning, parsed.Reasoning);
                Assert.Equal(first.Calls, parsed.Calls);
            }
        }
        return first!;
    }

    private static Parsed Fold(List<AssistantOutputPiece> pieces)
    {
        var content = new StringBuilder();
        var reasoning = new StringBuilder();
        var calls = new List<(string Name, StringBuilder Arguments)>();
        bool open = false;
        foreach (var piece in pieces)
        {
            switch (piece)
            {
                case AnswerText t: content.Append(t.Text); break;
                case ReasoningText t: reasoning.Append(t.Text); break;
                case ToolCallStarted s:
                    Assert.False(open, "a call started inside another");
                    calls.Add((s.Name, new StringBuilder()));
                    open = true;
                    break;
                case ToolCallArguments a:
                    Assert.True(open, "arguments outside a call");
                    calls[^1].Arguments.Append(a.Delta);
                    break;
                case ToolCallEnded:
                    Assert.True(open);
                    open = false;
                    break;
            }
        }
        Assert.False(open, "a call was not ended");
        return new Parsed(content.ToString(), reasoning.ToString(), calls.Select(c => (c.Name, Compact(c.Arguments.ToString()))).ToList());
    }

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Compact(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement, Relaxed);

    private static Func<IAssistantOutputParser> Family(ToolCallMarker? marker, ToolCallBody? bareJson = null, bool think = false, bool startsInReasoning = false) =>
        () => new AssistantOutputParser(think ? "<think>" : null, think ? "</think>" : null, marker is null ? [] : [marker], bareJson, startsInReasoning);

    [Fact]
    public void QwenThinksThenCallsTwoToolsInParallel()
    {
        var parsed = Parse(Family(ModelOutputSyntax.Hermes, think: true), """
            <think>
            The user wants the weather in two cities.
            </think>

            Let me check both.
            <tool_call>
            {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}
            </tool_call>
            <tool_call>
            {"name": "get_time", "arguments": {"zone": "Europe/Oslo"}}
            </tool_call>
            """);
        Assert.Equal("\nThe user wants the weather in two cities.\n", parsed.Reasoning);
        Assert.Equal("Let me check both.\n", parsed.Content);
        Assert.Equal([("get_weather", """{"city":"Paris","unit":"celsius"}"""), ("get_time", """{"zone":"Europe/Oslo"}""")], parsed.Calls);
    }

    [Fact]
    public void PlainAnswersAndTagLookalikesStayText()
    {
        var parsed = Parse(Family(ModelOutputSyntax.Hermes, think: true), "  a < b and <tool> is not <tool_call");
        Assert.Equal("  a < b and <tool> is not <tool_call", parsed.Content);
        Assert.Empty(parsed.Calls);
        Assert.Equal("", parsed.Reasoning);
        // Without tools a tool-call block is text.
        Assert.Equal("<tool_call>{\"name\": \"x\", \"arguments\": {}}</tool_call>",
            Parse(Family(null, think: true), "<tool_call>{\"name\": \"x\", \"arguments\": {}}</tool_call>").Content);
    }

    [Fact]
    public void AnOutputThatBeginsInsideTheThinkBlockIsReasoningUntilItCloses()
    {
        var parsed = Parse(Family(null, think: true, startsInReasoning: true), "step one</think>\n\nThe answer.");
        Assert.Equal("step one", parsed.Reasoning);
        Assert.Equal("The answer.", parsed.Content);
    }

    [Fact]
    public void LlamaJsonCallsOpenTheAnswerOrFollowThePythonTag()
    {
        var bare = Parse(Family(ModelOutputSyntax.PythonTag, ToolCallBody.Sequence),
            """{"name": "get_weather", "parameters": {"city": "Paris", "unit": "celsius"}}; {"name": "ping", "parameters": {}}""");
        Assert.Equal("", bare.Content);
        Assert.Equal([("get_weather", """{"city":"Paris","unit":"celsius"}"""), ("ping", "{}")], bare.Calls);

        var tagged = Parse(Family(ModelOutputSyntax.PythonTag, ToolCallBody.Sequence), """I will look it up.<|python_tag|>{"name": "search", "parameters": {"q": "a \"quoted\" }"}}""");
        Assert.Equal("I will look it up.", tagged.Content);
        Assert.Equal([("search", """{"q":"a \"quoted\" }"}""")], tagged.Calls);

        var text = Parse(Family(ModelOutputSyntax.PythonTag, ToolCallBody.Sequence), "Hello {there}");
        Assert.Equal("Hello {there}", text.Content);
        Assert.Empty(text.Calls);
    }

    [Fact]
    public void MistralCallsAreAListAfterTheirToken()
    {
        var parsed = Parse(Family(ModelOutputSyntax.Mistral),
            """Sure.[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "fahrenheit"}}, {"name": "ping", "arguments": {"deep": [1, {"x": null}]}}]""");
        Assert.Equal("Sure.", parsed.Content);
        Assert.Equal([("get_weather", """{"city":"Oslo","unit":"fahrenheit"}"""), ("ping", """{"deep":[1,{"x":null}]}""")], parsed.Calls);
    }

    [Fact]
    public void Phi4MiniCallsSitBetweenTheirTags()
    {
        var parsed = Parse(Family(ModelOutputSyntax.Phi4Mini),
            """Checking.<|tool_call|>[{"name": "get_weather", "arguments": "{\"city\": \"Rome\"}"}, {"name": "ping", "arguments": {}}]<|/tool_call|>""");
        Assert.Equal("Checking.", parsed.Content);
        // Arguments written as a JSON string are that JSON text.
        Assert.Equal([("get_weather", """{"city":"Rome"}"""), ("ping", "{}")], parsed.Calls);
    }

    [Fact]
    public void AnUnfinishedCallEndsWithTheOutputAndAMissingNameIsText()
    {
        var cut = Parse(Family(ModelOutputSyntax.Hermes), """<tool_call>{"name": "ping", "arguments": {"a": 1}""");
        Assert.Equal("ping", Assert.Single(cut.Calls).Name);
        var nameless = Parse(Family(ModelOutputSyntax.Hermes), """<tool_call>{"arguments": {}}</tool_call>""");
        Assert.Empty(nameless.Calls);
        Assert.Equal("""{"arguments": {}}""", nameless.Content);
    }

    [Fact]
    public void ArgumentsStreamBeforeTheCallEnds()
    {
        var parser = Family(ModelOutputSyntax.Hermes)();
        Assert.Empty(parser.Push("<tool_call>\n{\"name\": \"get_"));
        Assert.Equal([new ToolCallStarted("get_weather")], parser.Push("weather\", \"arguments\": "));
        Assert.Equal([new ToolCallArguments("{\"city\": \"Pa")], parser.Push("{\"city\": \"Pa"));
        var end = parser.Push("ris\"}}\n</tool_call>");
        Assert.Equal(new ToolCallArguments("ris\"}"), end[0]);
        Assert.IsType<ToolCallEnded>(end[1]);
    }

    [Fact]
    public void TheFamilyComesFromTheTokenizersSpecialTokens()
    {
        var qwen = ModelOutputSyntax.For(GenAI.Core.Tokenization.TokenizerLoader.Load(TestPaths.Tokenizer("qwen3")));
        Assert.Equal("hermes", qwen.Family);
        Assert.Equal("<think>", qwen.ThinkOpen);
        var llama = ModelOutputSyntax.For(GenAI.Core.Tokenization.TokenizerLoader.Load(TestPaths.Tokenizer("llama3")));
        Assert.Equal("llama3_json", llama.Family);
        Assert.Null(llama.ThinkOpen);
        Assert.Equal("json", ModelOutputSyntax.For(GenAI.Core.Tokenization.TokenizerLoader.Load(TestPaths.Gpt2Tiny)).Family);
    }
}
