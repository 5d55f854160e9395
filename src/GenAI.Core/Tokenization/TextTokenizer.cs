using System.Text;

namespace GenAI.Core.Tokenization;

/// <summary>
/// A model's tokenizer: text to token ids and back. Every token maps to a byte string; decoding is UTF-8 over
/// the concatenated bytes, so <see cref="Decode"/> and the <see cref="StreamingDetokenizer"/> agree exactly.
/// </summary>
public abstract class TextTokenizer
{
    /// <summary>Number of token ids.</summary>
    public abstract int VocabSize { get; }

    /// <summary>The end-of-sequence token id, if the tokenizer has one.</summary>
    public abstract int? EosTokenId { get; }

    /// <summary>The end-of-sequence token's text, if any.</summary>
    public abstract string? EosToken { get; }

    /// <summary>Token ids of ordinary text (special tokens in the text are encoded as plain text).</summary>
    public abstract IReadOnlyList<int> Encode(string text);

    /// <summary>
    /// Token ids of text a template produced: special tokens written in it (such as <c>&lt;|endoftext|&gt;</c>) become
    /// their ids; the rest is encoded as ordinary text. User text must go through <see cref="Encode"/>.
    /// </summary>
    public virtual IReadOnlyList<int> EncodeWithSpecialTokens(string text)
    {
        if (EosToken is not string eos || EosTokenId is not int eosId || !text.Contains(eos, StringComparison.Ordinal)) return Encode(text);
        var ids = new List<int>();
        string[] pieces = text.Split(eos);
        for (int i = 0; i < pieces.Length; i++)
        {
            if (i > 0) ids.Add(eosId);
            if (pieces[i].Length > 0) ids.AddRange(Encode(pieces[i]));
        }
        return ids;
    }

    /// <summary>The bytes token <paramref name="id"/> stands for; empty for special tokens such as EOS.</summary>
    public abstract ReadOnlySpan<byte> TokenBytes(int id);

    /// <summary>Writes the tokenizer's files into a model folder, so <see cref="TokenizerLoader"/> reads it back.</summary>
    public abstract void Save(string modelDirectory);

    /// <summary>Text of the ids; special tokens (EOS) produce no text; invalid UTF-8 becomes U+FFFD.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            CheckId(id);
            foreach (byte b in TokenBytes(id)) bytes.Add(b);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>The text one token shows on its own (log-prob listings); partial characters appear as U+FFFD.</summary>
    public string TokenText(int id)
    {
        CheckId(id);
        return Encoding.UTF8.GetString(TokenBytes(id));
    }

    /// <summary>A detokenizer for one output stream.</summary>
    public StreamingDetokenizer CreateStreamingDetokenizer() => new(this);

    /// <summary>Throws for an id outside the vocabulary.</summary>
    protected void CheckId(int id)
    {
        if (id < 0 || id >= VocabSize) throw new ArgumentOutOfRangeException(nameof(id), $"token id {id} is outside the vocabulary [0, {VocabSize})");
    }
}
