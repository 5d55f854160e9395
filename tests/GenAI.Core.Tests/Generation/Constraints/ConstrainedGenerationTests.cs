using System.Text;
using GenAI.Core.Generation;
using GenAI.Core.Generation.Constraints;
using GenAI.Core.Models;
using GenAI.Core.Tests.Generation;
using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Generation.Constraints;

/// <summary>
/// Constrained decoding through the engine on random-weight fixtures — byte-level BPE (GPT-2, Qwen3, Llama 3) and
/// SentencePiece with byte fallback (Mistral): greedy and sampled outputs always parse and validate (JsonSchema.Net),
/// batched beside unconstrained rows that stay exactly as they are alone, with seeds, stops, log-probs and
/// ignore_eos; beam search is refused. The rotary fixtures run as copies with 1024 positions, so every value of a
/// bounded schema fits in max_tokens and must be complete.
/// </summary>
public sealed class ConstrainedGenerationTests(ConstrainedGenerationTests.Models models, Xunit.Abstractions.ITestOutputHelper log)
    : IClassFixture<ConstrainedGenerationTests.Models>
{
    /// <summary>Every value is at most ~250 bytes, so 300 tokens always complete one.</summary>
    internal const string BoundedSchema = """
        {"type": "object", "properties": {
           "name": {"type": "string", "maxLength": 8},
           "age": {"type": "integer", "minimum": 0, "maximum": 120},
           "color": {"enum": ["red", "green", "blue"]},
           "ok": {"type": "boolean"},
           "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]{1,4}$"}, "maxItems": 2},
           "when": {"type": ["string", "null"], "format": "date"},
           "ratio": {"type": "number", "minimum": -1, "maximum": 1}
         }, "required": ["name", "age", "color", "ok", "tags", "when", "ratio"], "additionalProperties": false}
        """;

    public sealed class Models : IDisposable
    {
        private readonly Dictionary<string, (CausalLanguageModel Model, TextTokenizer Tokenizer)> _loaded = [];

        public (CausalLanguageModel Model, TextTokenizer Tokenizer) Get(string name)
        {
            lock (_loaded)
            {
                if (_loaded.TryGetValue(name, out var loaded)) return loaded;
                string folder = name == "gpt2-tiny" ? TestPaths.Gpt2Tiny : TestPaths.DecoderModelWithContext(name, 1024);
                loaded = (ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu" }), TokenizerLoader.Load(folder));
                _loaded[name] = loaded;
                return loaded;
            }
        }

        public void Dispose()
        {
            foreach (var (model, _) in _loaded.Values) model.Dispose();
        }
    }

    public static IEnumerable<object[]> Fixtures() => new[] { "qwen3-tiny", "llama3-tiny", "mistral-tiny", "gpt2-tiny" }.Select(n => new object[] { n });

    private InferenceEngine Engine(string name, int rows = 4)
    {
        var (model, tokenizer) = models.Get(name);
        return new InferenceEngine(model, tokenizer, new EngineOptions { MaxBatchRows = rows });
    }

    private IReadOnlyList<int> Prompt(string name) => models.Get(name).Tokenizer.Encode("Describe a person as JSON:");

    private static SamplingParameters Constrained(JsonConstraint constraint, int maxTokens, double temperature = 0, long? seed = null) => new()
    {
        MaxTokens = maxTokens, Temperature = temperature, Seed = seed, Constraint = new OutputConstraint(constraint),
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task GreedyAndSampledOutputsAlwaysValidate(string name)
    {
        using var engine = Engine(name);
        var tokenizer = models.Get(name).Tokenizer;
        var constraint = JsonConstraint.FromSchema(BoundedSchema);
        var validator = SchemaValidator.For(BoundedSchema);
        int maxTokens = name == "gpt2-tiny" ? 100 : 300; // GPT-2's learned positions stop at 128
        var runs = new List<SamplingParameters> { Constrained(constraint, maxTokens) };
        runs.AddRange(new long[] { 1, 2, 3, 4 }.Select(seed => Constrained(constraint, maxTokens, temperature: 1.0, seed: seed)));
        var outputs = await Task.WhenAll(runs.Select(p => EngineTestKit.Run(engine, Prompt(name), p)));
        foreach (var output in outputs)
        {
            log.WriteLine($"{output.Finish} ({output.Tokens.Count} tokens): {output.Text}");
            Assert.Equal(tokenizer.Decode(output.Tokens), output.Text);
            if (output.Finish == FinishReason.Length && name == "gpt2-tiny")
            {
                AssertValidPrefix(constraint, tokenizer, output.Text); // GPT-2's 128 positions may cut a value short
                continue;
            }
            Assert.Equal(FinishReason.Stop, output.Finish);
            validator.AssertValid(output.Text);
        }
    }

    [Theory]
    [InlineData("qwen3-tiny")]
    [InlineData("mistral-tiny")]
    public async Task JsonObjectOutputsParseOrAreValidPrefixes(string name)
    {
        using var engine = Engine(name);
        var tokenizer = models.Get(name).Tokenizer;
        var constraint = JsonConstraint.AnyObject();
        foreach (long seed in new long[] { 7, 8, 9 })
        {
            var output = await EngineTestKit.Run(engine, Prompt(name), Constrained(constraint, 200, temperature: 1.0, seed: seed));
            log.WriteLine($"{output.Finish} ({output.Tokens.Count} tokens): {output.Text}");
            if (output.Finish == FinishReason.Stop) SchemaValidator.For(null).AssertValid(output.Text);
            else AssertValidPrefix(constraint, tokenizer, output.Text);
            Assert.StartsWith("{", output.Text);
        }
    }

    [Fact]
    public async Task UnconstrainedRowsBatchedBesideAreUnchangedAndSeedsRepeat()
    {
        using var engine = Engine("qwen3-tiny");
        var prompt = Prompt("qwen3-tiny");
        var plain = new SamplingParameters { MaxTokens = 40, Temperature = 0, IgnoreEos = true };
        var sampled = new SamplingParameters { MaxTokens = 40, Temperature = 0.9, TopP = 0.9, Seed = 3, IgnoreEos = true };
        var alone = await EngineTestKit.Run(engine, prompt, plain);
        var aloneSampled = await EngineTestKit.Run(engine, prompt, sampled);
        var constraint = JsonConstraint.FromSchema(BoundedSchema);
        var seeded = Constrained(constraint, 300, temperature: 0.8, seed: 42) with { TopK = 50 };
        var together = await Task.WhenAll(
            EngineTestKit.Run(engine, prompt, plain), EngineTestKit.Run(engine, prompt, seeded),
            EngineTestKit.Run(engine, prompt, sampled), EngineTestKit.Run(engine, prompt, Constrained(constraint, 300)));
        Assert.Equal(alone.Tokens, together[0].Tokens);
        Assert.Equal(aloneSampled.Tokens, together[2].Tokens);
        var again = await EngineTestKit.Run(engine, prompt, seeded);
        Assert.Equal(together[1].Tokens, again.Tokens);
        SchemaValidator.For(BoundedSchema).AssertValid(together[1].Text);
        SchemaValidator.For(BoundedSchema).AssertValid(together[3].Text);
    }

    [Fact]
    public async Task GreedyPicksTheBestAllowedTokenAndLogProbsAreThoseOfTheMaskedDistribution()
    {
        using var engine = Engine("llama3-tiny");
        var prompt = Prompt("llama3-tiny");
        var constraint = JsonConstraint.FromSchema(BoundedSchema);
        // Without log-probs a greedy pick the grammar allows skips the mask; with them the whole mask is built: same tokens.
        var fast = await EngineTestKit.Run(engine, prompt, Constrained(constraint, 300));
        var masked = await EngineTestKit.Run(engine, prompt, Constrained(constraint, 300) with { LogProbs = 5 });
        Assert.Equal(fast.Tokens, masked.Tokens);

        var tokenizer = models.Get("llama3-tiny").Tokenizer;
        var state = constraint.Start(tokenizer, [.. models.Get("llama3-tiny").Model.Config.EosTokenIds]);
        foreach (var e in masked.Events.Where(e => e.TokenId is not null))
        {
            var logProb = e.LogProb!;
            Assert.True(float.IsFinite(logProb.LogProb) && logProb.LogProb <= 0);
            Assert.Equal(logProb.TokenId, logProb.Top[0].TokenId); // greedy: the chosen token is the most likely allowed one
            Assert.All(logProb.Top, alternative => Assert.True(state.IsAllowed(alternative.TokenId), $"alternative {alternative.TokenId} is not allowed"));
            // The alternatives' probabilities are shares of the allowed mass: they sum to at most 1.
            Assert.True(logProb.Top.Sum(a => Math.Exp(a.LogProb)) <= 1.0001);
            Assert.True(state.TryAdvance(e.TokenId!.Value));
        }
    }

    [Fact]
    public async Task StopsMaxTokensAndIgnoreEos()
    {
        using var engine = Engine("qwen3-tiny");
        var prompt = Prompt("qwen3-tiny");
        var tokenizer = models.Get("qwen3-tiny").Tokenizer;
        var constraint = JsonConstraint.FromSchema(BoundedSchema);

        var stopped = await EngineTestKit.Run(engine, prompt, Constrained(constraint, 300) with { Stop = ["\"age\""] });
        Assert.Equal(FinishReason.Stop, stopped.Finish);
        Assert.DoesNotContain("\"age\"", stopped.Text);
        AssertValidPrefix(constraint, tokenizer, stopped.Text);

        var cut = await EngineTestKit.Run(engine, prompt, Constrained(constraint, 5));
        Assert.Equal(FinishReason.Length, cut.Finish); // max_tokens ends it early: the text is a prefix of a value
        AssertValidPrefix(constraint, tokenizer, cut.Text);

        // ignore_eos without stop tokens: nothing may follow the complete value, so the output ends there.
        var ignoring = await EngineTestKit.Run(engine, prompt, Constrained(constraint, 300) with { IgnoreEos = true, MinTokens = 250 });
        Assert.Equal(FinishReason.Stop, ignoring.Finish);
        SchemaValidator.For(BoundedSchema).AssertValid(ignoring.Text);
        Assert.DoesNotContain(ignoring.Tokens, t => tokenizer.IsSpecialToken(t));
    }

    [Fact]
    public async Task MinTokensDoesNotKeepACompleteValueFromEnding()
    {
        using var engine = Engine("qwen3-tiny");
        var constraint = JsonConstraint.FromSchema("""{"type": "boolean"}""");
        var output = await EngineTestKit.Run(engine, Prompt("qwen3-tiny"), Constrained(constraint, 50) with { MinTokens = 20 });
        Assert.Equal(FinishReason.Stop, output.Finish);
        Assert.Contains(output.Text, new[] { "true", "false" });
    }

    [Fact]
    public void BeamSearchAndVocabulariesThatCannotWriteTheValueAreRefused()
    {
        using var engine = Engine("qwen3-tiny");
        var request = new GenerationRequest
        {
            PromptTokens = Prompt("qwen3-tiny"),
            Parameters = Constrained(JsonConstraint.AnyObject(), 20) with { NumBeams = 2 },
        };
        var e = Assert.Throws<InvalidGenerationRequestException>(() => engine.Submit(request));
        Assert.Equal("response_format", e.Parameter);

        // A character vocabulary without '{' (Shakespeare's) cannot begin an object: refused before anything runs.
        using var chars = new InferenceEngine(models.Get("gpt2-tiny").Model, CharTokenizer.FromCorpus("abc \n"));
        var refused = Assert.Throws<InvalidGenerationRequestException>(() => chars.Submit(new GenerationRequest
        {
            PromptTokens = [0, 1], Parameters = Constrained(JsonConstraint.AnyObject(), 20),
        }));
        Assert.Equal("response_format", refused.Parameter);
        Assert.Contains("vocabulary", refused.Reason);
    }

    [Fact]
    public async Task ATriggeredConstraintStartsAfterItsTokenAndEndsWithTheValue()
    {
        using var engine = Engine("qwen3-tiny");
        var prompt = Prompt("qwen3-tiny");
        var tokenizer = models.Get("qwen3-tiny").Tokenizer;
        var free = await EngineTestKit.Run(engine, prompt, new SamplingParameters { MaxTokens = 6, Temperature = 0, IgnoreEos = true });
        int trigger = free.Tokens[2]; // what the model writes anyway stands in for a tool-call opener
        var tools = JsonConstraint.ForToolCalls([new ToolSchema("get_weather", Parse("""{"type": "object", "properties": {"city": {"type": "string", "maxLength": 5}}, "required": ["city"], "additionalProperties": false}"""))]);
        var parameters = new SamplingParameters
        {
            MaxTokens = 200, Temperature = 0, IgnoreEos = true,
            Constraint = new OutputConstraint(tools) { TriggerTokenIds = [trigger], Parameter = "tools" },
        };
        var output = await EngineTestKit.Run(engine, prompt, parameters);
        Assert.Equal(free.Tokens.Take(3), output.Tokens.Take(3));
        // After the trigger: a complete call, then free text again.
        var state = tools.Start(tokenizer, []);
        int index = 3;
        for (; index < output.Tokens.Count && !state.IsComplete; index++) Assert.True(state.TryAdvance(output.Tokens[index]));
        Assert.True(state.IsComplete, "the call did not complete");
        string call = tokenizer.Decode(output.Tokens.Skip(3).Take(index - 3));
        var parsed = SchemaValidator.For(null).AssertValid(call);
        Assert.Equal("get_weather", parsed.GetProperty("name").GetString());
        Assert.True(index < output.Tokens.Count, "the output should go on freely after the call");
    }

    private static System.Text.Json.JsonElement Parse(string json) => System.Text.Json.JsonDocument.Parse(json).RootElement.Clone();

    internal static void AssertValidPrefix(JsonConstraint constraint, TextTokenizer tokenizer, string text)
    {
        var state = constraint.Start(tokenizer, []);
        Assert.True(state.TryAdvance(Encoding.UTF8.GetBytes(text)), $"not a prefix of a valid value: {text}");
    }
}
