using GenAI.Core.Tokenization;

namespace GenAI.Core.Tests.Tokenization;

/// <summary>The fixture's GPT-2 tokenizer, loaded once (the vocabulary takes about a second).</summary>
public sealed class Gpt2TokenizerFixture
{
    public TextTokenizer Tokenizer { get; } = TokenizerLoader.Load(TestPaths.Gpt2Tiny);
}
