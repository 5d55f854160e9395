using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text;
using GenAI.Core.Tokenization;
using GenAI.Core.Tokenization.HuggingFace;

namespace GenAI.Core.Tests.Tokenization;

/// <summary>The tokenizer.json tokenizer's contract: special tokens, loading and saving, streaming continuations.</summary>
public class HuggingFaceTokenizerTests
{
    [Theory]
    [InlineData("llama3", 128256, 128000, "<|begin_of_text|>", 128009, "<|eot_id|>")]
    [InlineData("qwen3", 151669, null, null, 151645, "<|im_end|>")]
    [InlineData("mistral", 32000, 1, "<s>", 2, "</s>")]
    public void NamesItsSpecialTokens(string name, int vocabSize, int? bosId, string? bos, int eosId, string eos)
    {
        var tokenizer = ReferenceTokenizers.Get(name);
        Assert.Equal(vocabSize, tokenizer.VocabSize);
        Assert.Equal(bosId, tokenizer.BosTokenId);
        Assert.Equal(bos, tokenizer.BosToken);
        Assert.Equal(eosId, tokenizer.EosTokenId);
        Assert.Equal(eos, tokenizer.EosToken);
        Assert.True(tokenizer.IsSpecialToken(eosId));
        Assert.True(tokenizer.TokenBytes(eosId).IsEmpty);
        Assert.False(tokenizer.IsSpecialToken(tokenizer.Encode("Hello")[0]));
    }

    [Fact]
    public void Phi3ConfigEncodesAsTransformers()
    {
        // Phi-3's tokenizer_config.json: LlamaTokenizer with add_bos_token false, and rstrip on the chat markers in
        // added_tokens_decoder. transformers (so vLLM) applies both on top of tokenizer.json, whose template adds <s>.
        var phi3 = SyntheticTokenizerTests.Get("sentencepiece-phi3-config");
        Assert.Equal(phi3.Encode("Hi"), phi3.EncodePrompt("Hi"));
        Assert.Equal([400, 292], phi3.EncodePrompt("Hi"));
        Assert.Equal(1, phi3.BosTokenId);
        Assert.Equal("<|endoftext|>", phi3.EosToken);
        Assert.Equal(phi3.TokenToId("<|endoftext|>"), phi3.EosTokenId);
        // The newline after <|user|>, <|end|> and <|assistant|> belongs to the marker (it was ▁ and <0x0A> tokens).
        const string chat = "<|user|>\nHi<|end|>\n<|assistant|>\n";
        Assert.Equal([610, 400, 292, 609, 608], phi3.EncodePrompt(chat));
        Assert.Equal([610, 400, 292, 609, 608], phi3.EncodeWithSpecialTokens(chat));
        // </s> is rstrip and not special in the config: it strips, but tokenizers keeps a token special once it was.
        Assert.Equal([403, 2], phi3.EncodeWithSpecialTokens("Hello</s>  "));
        Assert.True(phi3.IsSpecialToken(2));
        Assert.Equal("Hi Ok", phi3.Decode(phi3.EncodeWithSpecialTokens(chat + "Ok</s>"), skipSpecialTokens: true));
    }

    [Fact]
    public void LlamaClassesTakeBosAndEosFromTheConfig()
    {
        // tokenizer.json without post-processor or added tokens; the config names <s> and </s> (transformers adds
        // both as special tokens) and asks for an EOS; BOS is the Llama classes' default.
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("tokenizer.json"), MinimalTokenizerJson().ToJsonString());
        File.WriteAllText(temp.File("tokenizer_config.json"), """
            {"tokenizer_class": "LlamaTokenizerFast", "bos_token": "<s>", "eos_token": "</s>", "add_eos_token": true}
            """);
        var tokenizer = TokenizerLoader.Load(temp.Path);
        Assert.Equal(5, tokenizer.VocabSize);
        Assert.Equal([3, 2, 0, 4], tokenizer.EncodePrompt("aba"));
        Assert.Equal([2, 0], tokenizer.EncodePrompt("aba", addSpecialTokens: false));
        Assert.Equal([3, 2, 4], tokenizer.EncodeWithSpecialTokens("<s>ab</s>"));
        Assert.True(tokenizer.IsSpecialToken(3));

        // Another class keeps tokenizer.json's post-processor (none here), whatever the config says.
        File.WriteAllText(temp.File("tokenizer_config.json"), """
            {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "add_bos_token": true}
            """);
        Assert.Equal([2, 0], TokenizerLoader.Load(temp.Path).EncodePrompt("aba"));

        // add_bos_token without a BOS: transformers refuses the tokenizer, so does loading.
        File.WriteAllText(temp.File("tokenizer_config.json"), """{"tokenizer_class": "GemmaTokenizer", "bos_token": null}""");
        var e = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(temp.Path));
        Assert.Contains("add_bos_token", e.Message);
        Assert.Contains("tokenizer_config.json", e.Message);
    }

    [Fact]
    public void RealTokenizersAreUnchangedByTheirConfigs()
    {
        // llama3 (PreTrainedTokenizerFast), qwen3 (Qwen2Tokenizer) and mistral (LlamaTokenizer, add_bos_token true):
        // transformers and tokenizers agree; mistral's BOS now comes from its config.
        Assert.Equal([1, 22557], ReferenceTokenizers.Get("mistral").EncodePrompt("Hello"));
        Assert.Equal([128000, 9906], ReferenceTokenizers.Get("llama3").EncodePrompt("Hello"));
        Assert.Equal([9707], ReferenceTokenizers.Get("qwen3").EncodePrompt("Hello"));
    }

    [Fact]
    public void QwenThinkingTagsAreAddedTokensButNotSpecial()
    {
        var qwen = ReferenceTokenizers.Get("qwen3");
        int think = qwen.TokenToId("<think>")!.Value;
        Assert.False(qwen.IsSpecialToken(think));
        Assert.True(qwen.IsSpecialToken(qwen.TokenToId("<|im_start|>")!.Value));
        // In user text <think> still matches (it is not special); <|im_start|> is text.
        Assert.Contains(think, qwen.Encode("<think>hm</think>"));
        Assert.DoesNotContain(151644, qwen.Encode("<|im_start|>user"));
        Assert.Equal([151644], qwen.EncodeWithSpecialTokens("<|im_start|>"));
        Assert.Equal("<think>", qwen.Decode([think], skipSpecialTokens: true));
        Assert.Equal("<think>"u8.ToArray(), qwen.TokenBytes(think).ToArray());
    }

    [Fact]
    public void SpecialTokensInUserTextAreText()
    {
        var llama = ReferenceTokenizers.Get("llama3");
        var ids = llama.Encode("<|eot_id|>");
        Assert.DoesNotContain(128009, ids);
        Assert.Equal("<|eot_id|>", llama.Decode(ids, skipSpecialTokens: true));
        Assert.Equal([128009], llama.EncodeWithSpecialTokens("<|eot_id|>"));
        Assert.Equal([128000, 128009], llama.EncodePrompt("<|eot_id|>"));
        Assert.Equal(llama.Encode("Hello"), llama.EncodePrompt("Hello", addSpecialTokens: false));
    }

    [Theory]
    [InlineData("llama3")]
    [InlineData("qwen3")]
    [InlineData("mistral")]
    public void LoaderPrefersTokenizerJson(string name)
    {
        using var temp = new TempFolder();
        foreach (string file in Directory.EnumerateFiles(TestPaths.Tokenizer(name))) File.Copy(file, temp.File(Path.GetFileName(file)));
        // A stale GPT-2 vocabulary beside tokenizer.json does not win, as in transformers.
        File.Copy(Path.Combine(TestPaths.Gpt2Tiny, "vocab.json"), temp.File("vocab.json"));
        File.Copy(Path.Combine(TestPaths.Gpt2Tiny, "merges.txt"), temp.File("merges.txt"));
        var loaded = TokenizerLoader.Load(temp.Path);
        Assert.IsType<HuggingFaceTokenizer>(loaded);
        Assert.Equal(ReferenceTokenizers.Get(name).VocabSize, loaded.VocabSize);
    }

    [Fact]
    public void SavedFolderLoadsBack()
    {
        var mistral = ReferenceTokenizers.Get("mistral");
        using var temp = new TempFolder();
        mistral.Save(temp.Path);
        Assert.True(File.Exists(temp.File("tokenizer.json")));
        Assert.True(File.Exists(temp.File("tokenizer_config.json")));
        var loaded = TokenizerLoader.Load(temp.Path);
        const string text = "Hello <s> wörld 🚀";
        Assert.Equal(mistral.EncodePrompt(text), loaded.EncodePrompt(text));
        Assert.Equal(mistral.Encode(text), loaded.Encode(text));
        Assert.Equal(2, loaded.EosTokenId);
    }

    [Fact]
    public void SavedFolderKeepsEveryTokenizerFileAndNamedTemplate()
    {
        using var source = new TempFolder();
        foreach (string file in Directory.EnumerateFiles(TestPaths.Tokenizer("mistral"))) File.Copy(file, source.File(Path.GetFileName(file)));
        File.WriteAllText(source.File("chat_template.jinja"), "{{ messages[0].content }}");
        File.WriteAllText(source.File("chat_template.json"), """{"chat_template": "unused"}""");
        File.WriteAllText(source.File("special_tokens_map.json"), """{"eos_token": "</s>"}""");
        File.WriteAllText(source.File("added_tokens.json"), "{}");
        Directory.CreateDirectory(source.File("additional_chat_templates"));
        File.WriteAllText(source.File("additional_chat_templates/tool_use.jinja"), "tools: {{ tools | length }}");
        var tokenizer = TokenizerLoader.Load(source.Path);
        using var saved = new TempFolder();
        tokenizer.Save(saved.Path);
        foreach (string name in HuggingFaceTokenizer.Files.Where(n => !n.EndsWith('/')))
        {
            Assert.True(File.Exists(saved.File(name)) == File.Exists(source.File(name)), name);
        }
        Assert.True(File.Exists(saved.File("additional_chat_templates/tool_use.jinja")));
        var template = ChatTemplate.Load(saved.Path, TokenizerLoader.Load(saved.Path));
        Assert.Equal(["default", "tool_use"], template.TemplateNames.Order());
        Assert.Equal("tools: 1", template.Render([new JsonObject { ["role"] = "user", ["content"] = "x" }],
            new ChatRenderOptions { Tools = [new JsonObject { ["type"] = "function" }] }));
    }

    [Fact]
    public void NoTokenizerNamesWhatWasLookedFor()
    {
        using var temp = new TempFolder();
        var e = Assert.Throws<FileNotFoundException>(() => TokenizerLoader.Load(temp.Path));
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("vocab.json", e.Message);
        Assert.Contains("char_tokenizer.json", e.Message);
    }

    [Fact]
    public void Gpt2OwnTokenizerJsonEqualsItsVocabAndMerges()
    {
        // GPT-2's tokenizer.json as the Hub has it: ByteLevel, BPE with empty prefix/suffix, <|endoftext|> normalized.
        using var temp = new TempFolder();
        var vocab = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.Gpt2Tiny, "vocab.json")))!;
        var merges = new JsonArray(File.ReadLines(Path.Combine(TestPaths.Gpt2Tiny, "merges.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith("#version", StringComparison.Ordinal)).Select(l => (JsonNode)l).ToArray());
        var byteLevel = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject
            {
                ["id"] = 50256, ["content"] = "<|endoftext|>", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = true, ["special"] = true,
            }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = byteLevel.DeepClone(),
            ["post_processor"] = byteLevel.DeepClone(),
            ["decoder"] = byteLevel.DeepClone(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "", ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false, ["vocab"] = vocab.DeepClone(), ["merges"] = merges,
            },
        };
        File.WriteAllText(temp.File("tokenizer.json"), json.ToJsonString());
        File.WriteAllText(temp.File("tokenizer_config.json"), """{"model_max_length": 1024}""");
        var tokenizer = TokenizerLoader.Load(temp.Path);
        Assert.IsType<HuggingFaceTokenizer>(tokenizer);
        Assert.Equal(50256, tokenizer.EosTokenId);
        Assert.Equal(50256, tokenizer.BosTokenId);
        Assert.Equal(50257, tokenizer.VocabSize);
        foreach (object[] c in Gpt2BpeTokenizerTests.Cases())
        {
            Assert.Equal((int[])c[1], tokenizer.Encode((string)c[0]));
            Assert.Equal((string)c[0], tokenizer.Decode((int[])c[1], skipSpecialTokens: false));
        }
        Assert.Equal([50256], tokenizer.EncodePrompt("<|endoftext|>"));
        Assert.DoesNotContain(50256, tokenizer.Encode("<|endoftext|>"));
    }

    /// <summary>
    /// A prompt, then an answer streamed one token at a time, as an engine produces it. (A SentencePiece answer
    /// encoded on its own starts with the ▁ its normalizer prepends: a leading space, as a model would write it.)
    /// </summary>
    public static TheoryData<string, string, string> Continuations() => new()
    {
        { "mistral", "Question: what is this?\nAnswer:", "A llama 🦙 and a rocket 🚀, naïve café — 日本語." },
        { "mistral", "[INST] Say hi [/INST]", "Hi! 👋🏽 Emoji via byte fallback: 🦙🧬🫠 and 𝕳𝖊𝖑𝖑𝖔." },
        { "llama3", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", "Hello there 👨‍👩‍👧‍👦 🇯🇵 𝟙𝟚𝟛" },
        { "qwen3", "<|im_start|>assistant\n", "<think>\nokay\n</think>\n\nSure — 你好 🙂 𠀀" },
    };

    [Theory]
    [MemberData(nameof(Continuations))]
    public void StreamedContinuationEqualsWholeDecode(string name, string prompt, string answer)
    {
        var tokenizer = ReferenceTokenizers.Get(name);
        var promptIds = tokenizer.EncodePrompt(prompt);
        var answerIds = tokenizer.Encode(answer);
        var detokenizer = tokenizer.CreateStreamingDetokenizer();
        var pieces = answerIds.Select(detokenizer.Push).Append(detokenizer.Flush()).ToList();
        string streamed = string.Concat(pieces);

        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
        Assert.Equal(tokenizer.Decode(answerIds), streamed);
        // The continuation is what the whole sequence decodes to after the prompt: the leading space survives.
        string whole = tokenizer.Decode(promptIds.Concat(answerIds), skipSpecialTokens: true);
        string promptOnly = tokenizer.Decode(promptIds, skipSpecialTokens: true);
        Assert.Equal(whole, promptOnly + streamed);
        Assert.Equal(name == "mistral" ? " " + answer : answer, streamed);
    }

    [Fact]
    public void ByteFallbackCharactersWaitForTheirLastByte()
    {
        var mistral = ReferenceTokenizers.Get("mistral");
        var ids = mistral.Encode("🦙");
        Assert.True(ids.Count >= 4); // ▁ and four <0xNN> byte tokens: the llama emoji is not in the vocabulary
        var detokenizer = mistral.CreateStreamingDetokenizer();
        var pieces = ids.Select(detokenizer.Push).ToList();
        Assert.All(pieces.Take(pieces.Count - 1), p => Assert.DoesNotContain('\uFFFD', p));
        Assert.Equal(" 🦙", string.Concat(pieces) + detokenizer.Flush());
        // As a whole sequence the SentencePiece decoder strips the first space.
        Assert.Equal("🦙", mistral.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void InvalidBytesDecodeAsHuggingFaceDoes()
    {
        var mistral = ReferenceTokenizers.Get("mistral");
        int f0 = mistral.TokenToId("<0xF0>")!.Value, x41 = mistral.TokenToId("<0x41>")!.Value;
        // ByteFallback: a run of byte tokens that is not UTF-8 becomes one U+FFFD per byte.
        Assert.Equal("\uFFFD\uFFFDA", mistral.Decode([f0, f0, mistral.TokenToId("▁A")!.Value], skipSpecialTokens: false).Replace(" ", ""));
        Assert.Equal("A", mistral.Decode([x41], skipSpecialTokens: false));
        var llama = ReferenceTokenizers.Get("llama3");
        var rocket = llama.Encode("🚀");
        // ByteLevel: the bytes of all tokens read as one UTF-8 text, invalid sequences replaced.
        Assert.Equal("\uFFFD ok", llama.Decode(rocket.Take(1).Concat(llama.Encode(" ok")), skipSpecialTokens: false));
    }

    [Fact]
    public void LoneSurrogatesAreReplacementCharacters()
    {
        // A Rust string cannot hold one; tokenizers' bindings pass U+FFFD instead (ids from its Node binding).
        var mistral = ReferenceTokenizers.Get("mistral");
        Assert.Equal([264, 29137, 28726], mistral.Encode("a\ud800b"));
        Assert.Equal([3614, 30575, 29137], mistral.Encode("ok\ud83d\ude00\ud83d"));
    }

    [Fact]
    public void UnicodeNormalizersNormalizeAroundNoncharactersAndLoneSurrogates()
    {
        // .NET's string.Normalize throws on U+FFFE and unpaired surrogates; Rust never fails. Ids from tokenizers'
        // Node binding (qwen3: NFC; the synthetic tokenizers: NFKD, NFKC, NFC). Lone surrogates reach Rust as U+FFFD.
        var qwen = ReferenceTokenizers.Get("qwen3");
        (string Text, int[] Ids)[] qwenCases =
        [
            ("a\uFFFE b", [64, 5564, 122, 293]),
            ("a\uFFFEb", [64, 5564, 122, 65]),
            ("e\u0301\uFFFE\u0301x", [963, 5564, 122, 53839, 87]),
            ("\uFFFE", [5564, 122]),
            ("\uFFFF\uFDD0 ok", [5564, 123, 125415, 238, 5394]),
            ("a\ud800 b", [64, 5691, 293]),
            ("\udc00x\ud83d", [5691, 87, 5691]),
            ("caf\u00e9\uFFFE\uD83D\uDE00", [924, 58858, 5564, 122, 141334]),
        ];
        foreach (var (text, ids) in qwenCases)
        {
            Assert.Equal(ids, qwen.Encode(text));
            Assert.Equal(ids, qwen.EncodePrompt(text));
        }
        Assert.Equal([22, 0, 9], SyntheticTokenizerTests.Get("normalizers-whitespace").Encode("a\uFFFE b"));
        Assert.Equal([3, 0, 15], SyntheticTokenizerTests.Get("normalizers-whitespace").Encode("e\u0301\uFFFE\u0301x"));
        Assert.Equal([24], SyntheticTokenizerTests.Get("subword-suffix").Encode("a\uFFFE b"));
        Assert.Equal([70, 15], SyntheticTokenizerTests.Get("subword-suffix").Encode("e\u0301\uFFFE\u0301x"));
        Assert.Equal([0, 0, 0, 15], SyntheticTokenizerTests.Get("subword-prefix").Encode("e\u0301\uFFFE\u0301x"));
        // Straight to the normalizer: a lone surrogate stays where it is, the text around it is normalized.
        bool origin = true;
        Assert.Equal("\u00e9\ud800\u00e9\uFFFE\u1e69", new UnicodeNormalizer(NormalizationForm.FormC)
            .Normalize("e\u0301\ud800e\u0301\uFFFEs\u0323\u0307", ref origin));
        Assert.Equal("e\u0301\uDFFFx", new UnicodeNormalizer(NormalizationForm.FormKD).Normalize("\u00e9\uDFFFx", ref origin));
    }

    [Fact]
    public void WholeDecodeSkipsIdsWithoutAToken()
    {
        // Qwen3's model scores 151936 rows, its tokenizer has 151669 tokens: tokenizers' decode skips the rest.
        var qwen = ReferenceTokenizers.Get("qwen3");
        var hello = qwen.Encode("Hello world");
        int[] ids = [151669, .. hello, 151935, -1, int.MaxValue];
        Assert.Equal("Hello world", qwen.Decode(ids, skipSpecialTokens: false));
        Assert.Equal("Hello world", qwen.Decode(ids, skipSpecialTokens: true));
        var phi3 = SyntheticTokenizerTests.Get("sentencepiece-phi3-config");
        Assert.Equal("Hi", phi3.Decode([phi3.VocabSize, .. phi3.Encode("Hi"), phi3.VocabSize + 52], skipSpecialTokens: true));
        Assert.Equal("ab", CharTokenizer.FromCorpus("ab").Decode([0, 7, 1], skipSpecialTokens: false));
        // A continuation's bytes still need a token.
        Assert.Throws<ArgumentOutOfRangeException>(() => qwen.TokenBytes(-1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => qwen.Decode([qwen.VocabSize]));
    }

    [Fact]
    public void LongTextsEncodeAsTheirPiecesDo()
    {
        // The word cache must not change results: the same text twice, and pieces longer than the cache takes.
        var mistral = ReferenceTokenizers.Get("mistral");
        string text = string.Concat(Enumerable.Repeat("Tokenization is fun; ", 400));
        var first = mistral.Encode(text);
        Assert.Equal(first, mistral.Encode(text));
        Assert.Equal(text, mistral.Decode(first, skipSpecialTokens: true));
        var llama = ReferenceTokenizers.Get("llama3");
        string spaces = new string(' ', 1000) + "x";
        Assert.Equal(spaces, llama.Decode(llama.Encode(spaces), skipSpecialTokens: false));
    }

    [Fact]
    public void EncodingStopsWhenCancelled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        string words = string.Concat(Enumerable.Repeat("Tokenization is fun; ", 1000));
        foreach (string name in ReferenceTokenizers.Names)
        {
            var tokenizer = ReferenceTokenizers.Get(name);
            Assert.ThrowsAny<OperationCanceledException>(() => tokenizer.Encode(words, cancelled.Token));
            Assert.ThrowsAny<OperationCanceledException>(() => tokenizer.EncodeWithSpecialTokens(words, cancelled.Token));
            Assert.ThrowsAny<OperationCanceledException>(() => tokenizer.EncodePrompt(words, cancellationToken: cancelled.Token));
        }
        Assert.ThrowsAny<OperationCanceledException>(() => CharTokenizer.FromCorpus("ab").Encode("ab", cancelled.Token));

        // Within one long pre-token too: the merge loop checks the token as it goes.
        var llama = (HuggingFaceTokenizer)ReferenceTokenizers.Get("llama3");
        var model = llama.Pipeline.Model;
        Assert.ThrowsAny<OperationCanceledException>(() => model.Tokenize(new string('a', 100_000), [], cancelled.Token));
        var ids = new List<int>();
        model.Tokenize(new string('a', 100_000), ids, CancellationToken.None);
        Assert.Equal(12_500, ids.Count); // eight a's per token
    }

    [Fact]
    public void LongPreTokensEncodeAndDecodeBack()
    {
        // One pre-token of 200k equal letters (every merge a pair of equal ids: the case that once sent all of
        // Llama 3's such merges to one hash bucket) and one of random letters; their speed is in the `tokenizer`
        // benchmark verb.
        var llama = ReferenceTokenizers.Get("llama3");
        var random = new Random(7);
        foreach (string text in new[] { new string('a', 200_000), new string(Enumerable.Range(0, 100_000).Select(_ => (char)('a' + random.Next(26))).ToArray()) })
        {
            var ids = llama.Encode(text);
            Assert.InRange(ids.Count, 1, text.Length);
            Assert.Equal(text, llama.Decode(ids));
        }
    }

    internal static JsonObject MinimalTokenizerJson() => new()
    {
        ["version"] = "1.0",
        ["added_tokens"] = new JsonArray(),
        ["normalizer"] = null,
        ["pre_tokenizer"] = null,
        ["post_processor"] = null,
        ["decoder"] = null,
        ["model"] = new JsonObject
        {
            ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false,
            ["vocab"] = new JsonObject { ["a"] = 0, ["b"] = 1, ["ab"] = 2 },
            ["merges"] = new JsonArray(new JsonArray("a", "b")),
        },
    };

    [Fact]
    public void MinimalTokenizerWithoutDecoderJoinsTokensWithSpaces()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("tokenizer.json"), MinimalTokenizerJson().ToJsonString());
        var tokenizer = HuggingFaceTokenizer.Load(temp.Path);
        Assert.Equal([2, 0, 2], tokenizer.Encode("abaab"));
        Assert.Equal("ab a ab", tokenizer.Decode([2, 0, 2], skipSpecialTokens: false));
        Assert.Equal(" ab a ab", tokenizer.Decode([2, 0, 2]));
        Assert.Equal([2], tokenizer.Encode("axb")); // an unknown character without an unk token is dropped: a and b merge
        Assert.Null(tokenizer.EosTokenId);
    }
}
