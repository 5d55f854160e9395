namespace GenAI.Core.Tokenization;

/// <summary>Loads a model folder's tokenizer, choosing the kind by the files present.</summary>
public static class TokenizerLoader
{
    /// <summary>
    /// <c>tokenizer.json</c> → <see cref="HuggingFaceTokenizer"/> (transformers' fast tokenizers prefer it too);
    /// else <c>vocab.json</c> + <c>merges.txt</c> → <see cref="Gpt2BpeTokenizer"/>; else <c>char_tokenizer.json</c>
    /// → <see cref="CharTokenizer"/>; anything else is an error naming the folder and the files looked for.
    /// </summary>
    /// <exception cref="InvalidDataException">a tokenizer file is malformed or uses a feature that is not supported.</exception>
    public static TextTokenizer Load(string modelDirectory)
    {
        if (HuggingFaceTokenizer.IsPresent(modelDirectory)) return HuggingFaceTokenizer.Load(modelDirectory);
        if (Gpt2BpeTokenizer.IsPresent(modelDirectory)) return Gpt2BpeTokenizer.Load(modelDirectory);
        if (CharTokenizer.IsPresent(modelDirectory)) return CharTokenizer.Load(modelDirectory);
        throw new FileNotFoundException(
            $"{modelDirectory}: no tokenizer (looked for {HuggingFaceTokenizer.FileName}, {Gpt2BpeTokenizer.VocabFile} with " +
            $"{Gpt2BpeTokenizer.MergesFile}, or {CharTokenizer.FileName})");
    }
}
