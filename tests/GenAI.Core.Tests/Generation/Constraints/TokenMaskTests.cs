using GenAI.Core.Generation.Constraints;
using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Generation.Constraints;

/// <summary>
/// Masks over real vocabularies (GPT-2's and Llama 3's / Qwen's byte-level BPE, Mistral's SentencePiece with byte
/// fallback): the trie walk (and the plain-string shortcut, and the cache) give exactly the tokens whose bytes the
/// automaton accepts one by one; random walks through the allowed tokens never reach a state with nothing allowed and
/// end on a complete value.
/// </summary>
public sealed class TokenMaskTests
{
    internal const string Schema = """
        {"type": "object", "properties": {
           "name": {"type": "string"},
           "age": {"type": "integer", "minimum": 0, "maximum": 150},
           "email": {"type": ["string", "null"], "pattern": "^[a-z]+@[a-z]+\\.[a-z]{2,3}$"},
           "tags": {"type": "array", "items": {"enum": ["a", "b\"c", "日本"]}, "maxItems": 3},
           "score": {"type": "number"},
           "born": {"type": "string", "format": "date"},
           "nested": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"], "additionalProperties": false}
         }, "required": ["name", "age", "email", "tags", "score", "born", "nested"], "additionalProperties": false}
        """;

    public static IEnumerable<object[]> Tokenizers() => new[] { "gpt2", "qwen3", "llama3", "mistral" }.Select(n => new object[] { n });

    internal static TextTokenizer Load(string name) => name == "gpt2" ? TokenizerLoader.Load(TestPaths.Gpt2Tiny) : TokenizerLoader.Load(TestPaths.Tokenizer(name));

    private static void AssertMaskIsBruteForce(JsonConstraintState state, TextTokenizer tokenizer, IReadOnlySet<int> endTokens)
    {
        var mask = state.AllowedTokens();
        var vocabulary = TokenVocabulary.For(tokenizer);
        for (int id = 0; id < tokenizer.VocabSize; id++)
        {
            bool expected = endTokens.Contains(id) ? state.CanEnd : vocabulary.Bytes[id] is { } bytes && state.IsAllowedSlow(bytes);
            if (mask[id] != expected) Assert.Fail($"token {id} ({tokenizer.TokenText(id)}): mask says {mask[id]}, its bytes say {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void MasksAreExactlyTheTokensTheAutomatonAccepts(string name)
    {
        var tokenizer = Load(name);
        var endTokens = new HashSet<int> { tokenizer.EosTokenId ?? 0 };
        foreach (var constraint in new[] { JsonConstraint.FromSchema(Schema), JsonConstraint.AnyObject() })
        {
            var random = new Random(11);
            var state = constraint.Start(tokenizer, endTokens);
            for (int step = 0; step < 60 && !state.Ended; step++)
            {
                if (step % 6 == 0) AssertMaskIsBruteForce(state, tokenizer, endTokens);
                var allowed = state.AllowedTokens().Ids().ToList();
                Assert.NotEmpty(allowed); // never a dead end
                Assert.True(state.TryAdvance(allowed[random.Next(allowed.Count)]));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void RandomWalksEndOnValuesThatValidate(string name)
    {
        var tokenizer = Load(name);
        int eos = tokenizer.EosTokenId ?? 0;
        var constraint = JsonConstraint.FromSchema(Schema);
        var validator = SchemaValidator.For(Schema);
        for (int seed = 0; seed < 6; seed++)
        {
            var random = new Random(seed);
            var state = constraint.Start(tokenizer, [eos]);
            var tokens = new List<int>();
            for (int step = 0; step < 3000 && !state.Ended; step++)
            {
                var allowed = state.AllowedTokens().Ids().ToList();
                Assert.NotEmpty(allowed);
                // Prefer closing tokens now and then so that walks end: quotes, brackets, digits, the pattern's '@' and '.', EOS.
                int token = allowed[random.Next(allowed.Count)];
                if (random.Next(3) == 0)
                {
                    var closing = allowed.Where(t => t == eos || tokenizer.TokenText(t).IndexOfAny(['"', '}', ']', ',', '1', '@', '.']) >= 0).ToList();
                    if (closing.Count > 0) token = closing[random.Next(closing.Count)];
                }
                Assert.True(state.TryAdvance(token));
                if (token != eos) tokens.Add(token);
            }
            Assert.True(state.Ended, "the walk did not end: " + tokenizer.Decode(tokens));
            validator.AssertValid(tokenizer.Decode(tokens));
        }
    }

    [Fact]
    public void SpecialTokensAndIdsWithoutTextAreNeverAllowedAndEosOnlyAtTheEnd()
    {
        var tokenizer = Load("qwen3");
        int eos = tokenizer.EosTokenId!.Value;
        var state = JsonConstraint.AnyObject().Start(tokenizer, [eos]);
        var specials = Enumerable.Range(0, tokenizer.VocabSize).Where(tokenizer.IsSpecialToken).ToList();
        Assert.NotEmpty(specials);
        Assert.All(specials, id => Assert.False(state.AllowedTokens()[id]));
        Assert.False(state.AllowedTokens()[tokenizer.VocabSize + 5]); // a padded model row beyond the tokenizer
        Assert.True(state.TryAdvance(tokenizer.Encode("{}").Single()));
        Assert.True(state.IsComplete);
        Assert.Equal([eos], state.AllowedTokens().Ids());
        Assert.True(state.TryAdvance(eos));
        Assert.True(state.Ended);
        Assert.True(state.AllowedTokens().IsEmpty);
    }

    [Fact]
    public void TheMaskCacheAnswersARepeatedState()
    {
        var tokenizer = Load("gpt2");
        var constraint = JsonConstraint.FromSchema("""{"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"], "additionalProperties": false}""");
        var first = constraint.Start(tokenizer, [50256]);
        foreach (int token in tokenizer.Encode("{\"text\": \"hello")) first.TryAdvance(token);
        first.AllowedTokens();
        var second = constraint.Start(tokenizer, [50256]);
        foreach (int token in tokenizer.Encode("{\"text\": \"hello world")) second.TryAdvance(token);
        second.AllowedTokens();
        Assert.Equal(0, second.MasksComputed); // inside the same plain string: the same state
        Assert.Equal(1, second.MasksRequested);
    }
}

/// <summary>Masking a row of the step's logits: in place, only that row, and the masked argmax found on the way.</summary>
public sealed class ApplyMaskTests
{
    [Fact]
    public void MasksTheRowInPlaceAndFindsTheBestAllowedToken()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var batch = TorchSharp.torch.tensor(new float[] { 5, 1, 2, 3, 4, /* row 1 */ 9, 8, 7, 6, float.NegativeInfinity, /* row 2 */ 1, 1, 1, 1, 1 }, [3, 5]);
        var row = batch.narrow(0, 1, 1)[0];
        var mask = new TokenMask(4); // a tokenizer smaller than the model's rows: id 4 is never allowed
        mask.Set(1);
        mask.Set(3);
        var masked = GenAI.Core.Generation.LogitsPipeline.ApplyMask(row, row, mask, out int best);
        Assert.Equal(1, best);
        Assert.Equal(new[] { float.NegativeInfinity, 8, float.NegativeInfinity, 6, float.NegativeInfinity }, masked.data<float>().ToArray());
        Assert.Equal(new float[] { 5, 1, 2, 3, 4 }, batch[0].data<float>().ToArray());
        Assert.Equal(new float[] { 1, 1, 1, 1, 1 }, batch[2].data<float>().ToArray());
        Assert.Equal(masked.data<float>().ToArray(), batch[1].data<float>().ToArray()); // the row itself, not a copy

        // Penalties that ban every allowed token fall back to the model's own scores.
        var banned = TorchSharp.torch.tensor(new[] { 0f, float.NegativeInfinity, 0, float.NegativeInfinity, 0 });
        var model = TorchSharp.torch.tensor(new[] { 0f, 2, 0, 3, 0 });
        GenAI.Core.Generation.LogitsPipeline.ApplyMask(banned, model, mask, out best);
        Assert.Equal(3, best);
    }
}
