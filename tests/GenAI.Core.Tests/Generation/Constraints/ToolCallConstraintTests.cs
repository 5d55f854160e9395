using System.Text;
using System.Text.Json;
using GenAI.Core.Generation.Constraints;

namespace GenAI.Core.Tests.Generation.Constraints;

/// <summary>
/// The API the tool-calling work builds on: <see cref="JsonConstraint.ForToolCalls"/> constrains an output to a call of
/// one of the tools (name from the list, arguments validating that tool's parameters), one call or a list of them,
/// with the key names a model family writes; and a triggered <see cref="OutputConstraint"/> starts the value after a
/// tool-call opener token and lets the output go on freely once the call is complete.
/// </summary>
public sealed class ToolCallConstraintTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    private static readonly ToolSchema Weather = new("get_weather", Json("""
        {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
         "required": ["city", "unit"], "additionalProperties": false}
        """));

    private static readonly ToolSchema Time = new("get_time", Json("""{"type": "object", "properties": {"zone": {"type": "string", "format": "uuid"}}}"""));

    private static readonly ToolSchema Ping = new("ping", null);

    [Fact]
    public void ACallNamesOneToolAndItsArgumentsFollowThatToolsSchema()
    {
        var calls = JsonConstraint.ForToolCalls([Weather, Time, Ping]);
        Assert.True(JsonGrammarTests.Accepts(calls, """{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}"""));
        Assert.True(JsonGrammarTests.Accepts(calls, """{"name":"get_time","arguments":{}}"""));
        Assert.True(JsonGrammarTests.Accepts(calls, """{"name":"ping","arguments":{"anything":[1,2]}}""")); // no parameters: any object
        Assert.False(JsonGrammarTests.Accepts(calls, """{"name": "get_weather", "arguments": {"city": "Paris"}}"""));          // unit is required
        Assert.False(JsonGrammarTests.Accepts(calls, """{"name": "get_time", "arguments": {"city": "Paris", "unit": "celsius"}}""")); // another tool's arguments
        Assert.False(JsonGrammarTests.AcceptsPrefix(calls, """{"name": "get_w"""u8.ToArray().Concat("x"u8.ToArray()).ToArray()));
        Assert.False(JsonGrammarTests.AcceptsPrefix(calls, """{"arguments"""));                                              // the name comes first
    }

    [Fact]
    public void ParallelCallsAreAListAndTheKeysFollowTheModelFamily()
    {
        var llama = JsonConstraint.ForToolCalls([Weather, Ping], new ToolCallShape { ArgumentsKey = "parameters", Parallel = true });
        Assert.True(JsonGrammarTests.Accepts(llama, """[{"name":"ping","parameters":{}}, {"name":"get_weather","parameters":{"city":"Oslo","unit":"fahrenheit"}}]"""));
        Assert.False(JsonGrammarTests.Accepts(llama, "[]"));
        Assert.False(JsonGrammarTests.Accepts(llama, """{"name":"ping","parameters":{}}"""));
    }

    [Fact]
    public void ParametersSchemasAreCheckedWithThePathOfTheirTool()
    {
        var bad = new ToolSchema("bad", Json("""{"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 3}}}"""));
        var e = Assert.Throws<JsonSchemaException>(() => JsonConstraint.ForToolCalls([Weather, bad]));
        Assert.Equal("tools[1].function.parameters.properties.n", e.Path);
        Assert.Contains("multipleOf", e.Reason);
        Assert.Equal("tools[1].function.name", Assert.Throws<JsonSchemaException>(() => JsonConstraint.ForToolCalls([Weather, Weather])).Path);
        Assert.Equal("tools", Assert.Throws<JsonSchemaException>(() => JsonConstraint.ForToolCalls([])).Path);
    }

    [Fact]
    public void ATriggeredConstraintIsFreeUntilItsTokenThenConstrainedThenFreeAgain()
    {
        var tokenizer = TokenMaskTests.Load("qwen3");
        int opener = tokenizer.EncodeWithSpecialTokens("<tool_call>").Single();
        var constraint = new OutputConstraint(JsonConstraint.ForToolCalls([Weather])) { TriggerTokenIds = [opener], LeadingWhitespace = 1, Parameter = "tools" };
        var output = new ConstrainedOutput(constraint, tokenizer, [tokenizer.EosTokenId!.Value]);
        foreach (int token in tokenizer.Encode("Let me check. ")) Assert.True(output.Observe(token));
        Assert.Null(output.State); // free text
        Assert.True(output.Observe(opener));
        var state = Assert.IsType<JsonConstraintState>(output.State);
        Assert.False(state.AllowedTokens()[tokenizer.EosTokenId!.Value]); // no end inside a call
        foreach (int token in tokenizer.Encode("\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}"))
        {
            Assert.True(output.State!.IsAllowed(token), tokenizer.TokenText(token));
            Assert.True(output.Observe(token));
        }
        Assert.Null(output.State); // the call is complete: free again (the closing tag, another call, EOS)
    }

    [Fact]
    public void AStateCanTakeOverMidOutputFromTextAlreadyWritten()
    {
        // A tool-call parser that sees an opener inside a token (or text it did not generate) hands the rest over as bytes.
        var state = JsonConstraint.ForToolCalls([Weather]).Start(TokenMaskTests.Load("gpt2"), [50256]);
        Assert.True(state.TryAdvance(Encoding.UTF8.GetBytes("{\"name\": \"get_weather\", \"arg")));
        Assert.False(state.TryAdvance(Encoding.UTF8.GetBytes("x")));
        Assert.True(state.TryAdvance(Encoding.UTF8.GetBytes("uments\": {\"city\": \"")));
    }

    private static void Write(ConstrainedOutput output, GenAI.Core.Tokenization.TextTokenizer tokenizer, IEnumerable<int> tokens)
    {
        foreach (int token in tokens)
        {
            Assert.True(output.Rule is null || output.Rule.IsAllowed(token), $"'{tokenizer.TokenText(token)}' ({token}) refused");
            Assert.True(output.Observe(token));
        }
    }

    private static IEnumerable<int> Pieces(GenAI.Core.Tokenization.TextTokenizer tokenizer, params string[] pieces) =>
        pieces.SelectMany(p => tokenizer.EncodeWithSpecialTokens(p));

    [Fact]
    public void AWholeAnswerIsPrefixValueSuffixRepeatedAfterItsSeparatorThenTheEnd()
    {
        // Qwen's tool_choice "required" with parallel calls: <tool_call>\n{...}\n</tool_call>, then "\n" and another, or EOS.
        var tokenizer = TokenMaskTests.Load("qwen3");
        int eos = tokenizer.EosTokenId!.Value;
        var constraint = new OutputConstraint(JsonConstraint.ForToolCalls([Weather, Ping]))
        {
            Prefix = tokenizer.EncodeWithSpecialTokens("<tool_call>\n"),
            Suffix = tokenizer.EncodeWithSpecialTokens("\n</tool_call>"),
            Separator = tokenizer.Encode("\n"),
            Parameter = "tool_choice",
        };
        var output = new ConstrainedOutput(constraint, tokenizer, [eos]);
        Assert.Equal([constraint.Prefix[0]], output.Rule!.AllowedTokens().Ids().ToList());
        // The value ends on its own token ('}' never merges with the forced newline after it), as the mask makes the model write it.
        Write(output, tokenizer, Pieces(tokenizer, "<tool_call>\n", "{\"name\": \"ping\", \"arguments\": {}}", "\n</tool_call>"));
        var choice = output.Rule!.AllowedTokens().Ids().ToList();
        Assert.Equal(2, choice.Count); // the separator or the end
        Assert.Contains(eos, choice);
        Write(output, tokenizer, Pieces(tokenizer, "\n<tool_call>\n", "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"unit\": \"celsius\"}}", "\n</tool_call>"));
        Write(output, tokenizer, [eos]);
        Assert.True(output.MustEnd);
    }

    [Fact]
    public void AThinkBlockMayOpenTheOutputAndTheAnswerFollowsIt()
    {
        var tokenizer = TokenMaskTests.Load("qwen3");
        int eos = tokenizer.EosTokenId!.Value;
        int open = tokenizer.EncodeWithSpecialTokens("<think>").Single(), close = tokenizer.EncodeWithSpecialTokens("</think>").Single();
        var constraint = new OutputConstraint(JsonConstraint.ForToolCalls([Ping]))
        {
            Prefix = tokenizer.EncodeWithSpecialTokens("<tool_call>\n"),
            Suffix = tokenizer.EncodeWithSpecialTokens("\n</tool_call>"),
            Thinking = new ThinkBlock(open, close) { AfterClose = tokenizer.Encode("\n\n") },
        };
        var output = new ConstrainedOutput(constraint, tokenizer, [eos]);
        Assert.True(output.Rule!.IsAllowed(open));
        Write(output, tokenizer, [open, .. tokenizer.Encode("\nHmm, any text {[ here.\n"), close]);
        Assert.False(output.Rule!.IsAllowed(open));
        Write(output, tokenizer, Pieces(tokenizer, "\n\n<tool_call>\n", "{\"name\":\"ping\",\"arguments\":{}}", "\n</tool_call>"));
        Assert.True(output.MustEnd);
        Assert.Equal([eos], output.Rule!.AllowedTokens().Ids().ToList());
    }

    [Fact]
    public void ABareValueMayOpenTheAnswerOrTheAnswerIsFreeText()
    {
        // Llama 3's JSON calls: '{' at the answer's start begins a call; other text leaves the answer free.
        var tokenizer = TokenMaskTests.Load("llama3");
        var constraint = new OutputConstraint(JsonConstraint.ForToolCalls([Weather], new ToolCallShape { ArgumentsKey = "parameters" })) { ValueMayOpenAnswer = true, LeadingWhitespace = 1 };
        var call = new ConstrainedOutput(constraint, tokenizer, [128009]);
        Write(call, tokenizer, tokenizer.Encode(" {\"name\": \"get_weather\""));
        Assert.NotNull(call.State);
        Assert.False(call.Rule!.IsAllowed(tokenizer.Encode("x").Single()));
        var text = new ConstrainedOutput(constraint, tokenizer, [128009]);
        Write(text, tokenizer, tokenizer.Encode("Hello {"));
        Assert.Null(text.Rule);
    }
}
