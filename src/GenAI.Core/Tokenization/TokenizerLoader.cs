namespace GenAI.Core.Tokenization;

/// <summary>Loads a model folder's tokenizer, choosing the kind by the files present.</summary>
public static class TokenizerLoader
{
    /// <summary>
    /// <c>char_tokenizer.json</c> → <see cref="CharTokenizer"/>; <c>vocab.json</c> + <c>merges.txt</c> →
    /// <see cref="Gpt2BpeTokenizer"/>; anything else is an error naming the folder and the files looked for.
    /// </summary>
    public static TextTokenizer Load(string modelDirectory)
    {
        if (CharTokenizer.IsPresent(modelDirectory)) return CharTokenizer.Load(modelDirectory);
        if (Gpt2BpeTokenizer.IsPresent(modelDirectory)) return Gpt2BpeTokenizer.Load(modelDirectory);
        throw new FileNotFoundException(
            $"{modelDirectory}: no tokenizer (looked for {CharTokenizer.FileName}, or {Gpt2BpeTokenizer.VocabFile} with {Gpt2BpeTokenizer.MergesFile})");
    }
}
