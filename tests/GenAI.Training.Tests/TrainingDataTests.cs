using System.Text;
using GenAI.Core.Tokenization;

namespace GenAI.Training.Tests;

public sealed class TrainingDataTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("genai-data-").FullName;

    private string Write(string name, string content) => WriteBytes(name, Encoding.UTF8.GetBytes(content));

    private string WriteBytes(string name, byte[] content)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    [Fact]
    public void ATextFileIsOneDocumentAsWritten()
    {
        string text = "First Citizen:\r\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n";
        Assert.Equal([new TrainingDocument(text)], TrainingData.ReadDocuments(Write("corpus.txt", text)));
    }

    [Fact]
    public void JsonlLinesOfEveryShapeBecomeDocuments()
    {
        string path = Write("train.jsonl", """
            {"text": "plain text"}

            {"prompt": "Q: 2+2?\nA:", "completion": " 4"}
            {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}
            """.ReplaceLineEndings("\n"));
        var documents = TrainingData.ReadDocuments(path);
        Assert.Equal(["plain text", "Q: 2+2?\nA: 4", "System: Be brief.\nUser: Hi\nAssistant: Hello.\n"], documents.Select(d => d.Text));
        Assert.All(documents, d => Assert.False(d.FromTemplate)); // GenAI's plain template writes no special tokens
    }

    [Fact]
    public void ChatUsesTheModelsTemplateWhenItHasOne()
    {
        string model = Directory.CreateDirectory(Path.Combine(_folder, "model")).FullName;
        File.WriteAllText(Path.Combine(model, "tokenizer_config.json"), """
            {"chat_template": "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</{{ m['role'] }}>{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}"}
            """);
        string path = Write("chat.jsonl", """{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}""");
        // The whole conversation as the template writes a finished one: the reply with the template's end of turn.
        Assert.Equal([new TrainingDocument("<user>Hi</user><assistant>Hello.</assistant>", FromTemplate: true)], TrainingData.ReadDocuments(path, ChatTemplate.Load(model)));
    }

    [Theory]
    [InlineData("{\"text\": \"ok\"}\n{\"text\": \"ok\"\n", 2, "invalid JSON")]
    [InlineData("{\"text\": \"ok\"}\n[1, 2]\n", 2, "expected a JSON object, not an array")]
    [InlineData("{\"input\": \"x\"}\n", 1, "unknown shape")]
    [InlineData("{\"text\": \"ok\"}\n{\"text\": \"\"}\n", 2, "'text' must not be empty")]
    [InlineData("{\"text\": 5}\n", 1, "'text' must be a string, not a number")]
    [InlineData("\n\n{\"prompt\": \"p\", \"completion\": 7}\n", 3, "'completion' must be a string, not a number")]
    [InlineData("{\"prompt\": \"p\"}\n", 1, "'completion' is missing")]
    [InlineData("{\"messages\": {}}\n", 1, "'messages' must be an array")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n", 1, "must end with an assistant message")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": null}, {\"role\": \"assistant\", \"content\": \"x\"}]}\n", 1, "'messages[0].content' must be a string, not null")]
    public void BadLinesAreReportedWithTheirNumber(string content, int line, string problem)
    {
        var e = Assert.Throws<TrainingDataException>(() => TrainingData.ReadDocuments(Write("train.jsonl", content)));
        Assert.Equal(line, e.Line);
        Assert.StartsWith($"train.jsonl line {line}: ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void InvalidUtf8AndEmptyFilesAreReported()
    {
        var utf8 = Assert.Throws<TrainingDataException>(() => TrainingData.ReadDocuments(WriteBytes("bad.txt", [.. "one\ntwo\nth"u8, 0xC3, 0x28, .. "\n"u8])));
        Assert.Equal("bad.txt line 3: is not valid UTF-8", utf8.Message);
        var empty = Assert.Throws<TrainingDataException>(() => TrainingData.ReadDocuments(Write("empty.jsonl", "\n \n")));
        Assert.Equal("empty.jsonl: the file is empty", empty.Message);
        Assert.Null(empty.Line);
        Assert.IsAssignableFrom<FormatException>(empty);
    }

    [Fact]
    public void DocumentsAreSeparatedByEosAndSplitNinetyTen()
    {
        var tokenizer = TokenizerLoader.Load(TestPaths.Gpt2Tiny);
        int eos = tokenizer.EosTokenId!.Value;
        var documents = Enumerable.Range(0, 10).Select(i => new TrainingDocument($"document number {i} says hello")).ToList();
        int perDocument = tokenizer.Encode(documents[0].Text).Count + 1;
        Assert.All(documents, d => Assert.Equal(perDocument, tokenizer.Encode(d.Text).Count + 1));
        using var split = TokenDataset.FromDocuments(documents, null, tokenizer);
        long total = perDocument * 10L;
        Assert.Equal(((long)(total * 0.9), total - (long)(total * 0.9)), split.Sizes);

        using var explicitValidation = TokenDataset.FromDocuments(documents, documents.Take(2).ToList(), tokenizer);
        Assert.Equal((total, 2L * perDocument), explicitValidation.Sizes);
        using var generator = new TorchSharp.torch.Generator(1);
        var (x, _) = explicitValidation.Batch(train: false, 64, perDocument, generator);
        // Every window of one document's length holds exactly one EOS.
        Assert.True(x.eq(eos).sum(1).eq(1).all().item<bool>());

        var tooShort = Assert.Throws<ArgumentException>(() => explicitValidation.EnsureWindowsFit(2 * perDocument));
        Assert.Contains("validation split", tooShort.Message);
        Assert.Contains("--block_size", tooShort.Message);
    }

    [Fact]
    public void TemplateWrittenDocumentsEncodeTheirSpecialTokens()
    {
        var tokenizer = TokenizerLoader.Load(TestPaths.DecoderModel("qwen3-tiny"));
        string text = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.";
        using var templated = TokenDataset.FromDocuments(Enumerable.Repeat(new TrainingDocument(text, FromTemplate: true), 10).ToList(), null, tokenizer);
        using var plain = TokenDataset.FromDocuments(Enumerable.Repeat(new TrainingDocument(text), 10).ToList(), null, tokenizer);
        int perDocument = tokenizer.EncodeWithSpecialTokens(text).Count + 1;
        Assert.Equal(10L * perDocument, templated.Sizes.Train + templated.Sizes.Validation);
        Assert.True(plain.Sizes.Train + plain.Sizes.Validation > 10L * perDocument, "spelled out, the markers are several tokens each");
        Assert.Contains(151644, tokenizer.EncodeWithSpecialTokens(text)); // <|im_start|>
    }

    [Fact]
    public void AChatDocumentEndsWithItsTemplatesEndOfTurnAndTextDocumentsStartWithBos()
    {
        string folder = TestPaths.DecoderModel("qwen3-tiny");
        var tokenizer = TokenizerLoader.Load(folder);
        string path = Write("qwen.jsonl", """{"messages": [{"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris."}]}""");
        var document = Assert.Single(TrainingData.ReadDocuments(path, ChatTemplate.Load(folder)));
        Assert.EndsWith("Paris.<|im_end|>\n", document.Text);
        using var chat = TokenDataset.FromDocuments(Enumerable.Repeat(document, 10).ToList(), null, tokenizer);
        // <|im_end|> is Qwen's EOS and the template wrote it: no second one.
        Assert.Equal(10L * tokenizer.EncodeWithSpecialTokens(document.Text).Count, chat.Sizes.Train + chat.Sizes.Validation);

        var llama = TokenizerLoader.Load(TestPaths.DecoderModel("llama3-tiny"));
        using var text = TokenDataset.FromDocuments(Enumerable.Repeat(new TrainingDocument("Hello there"), 10).ToList(), null, llama);
        Assert.Equal(10L * (1 + llama.Encode("Hello there").Count + 1), text.Sizes.Train + text.Sizes.Validation); // BOS, text, EOS
    }

    [Fact]
    public void CharacterTokenizerHasNoEosSoTextIsTheStream()
    {
        var tokenizer = CharTokenizer.FromCorpus("abcdefghij");
        using var data = TokenDataset.FromDocuments([new TrainingDocument("abcde"), new TrainingDocument("fghij")], null, tokenizer);
        Assert.Equal((9L, 1L), data.Sizes);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
