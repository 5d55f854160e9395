using System.Text;

namespace GenAI.Core.Tokenization;

/// <summary>
/// A model's tokenizer: text to token ids and back. Every token maps to the bytes it adds to a continuation
/// (<see cref="TokenBytes"/>); <see cref="Decode(IEnumerable{int})"/> is UTF-8 over the concatenated bytes, so it and
/// the <see cref="StreamingDetokenizer"/> agree exactly. <see cref="Decode(IEnumerable{int}, bool)"/> is the exact
/// whole-sequence decode of Hugging Face's <c>tokenizer.decode</c>.
/// </summary>
public abstract class TextTokenizer
{
    /// <summary>Number of token ids.</summary>
    public abstract int VocabSize { get; }

    /// <summary>The end-of-sequence token id, if the tokenizer has one.</summary>
    public abstract int? EosTokenId { get; }

    /// <summary>The end-of-sequence token's text, if any.</summary>
    public abstract string? EosToken { get; }

    /// <summary>The beginning-of-sequence token id, if the tokenizer names one.</summary>
    public virtual int? BosTokenId => null;

    /// <summary>The beginning-of-sequence token's text, if any.</summary>
    public virtual string? BosToken => null;

    /// <summary>True for special tokens (BOS, EOS, chat markers...): they bring no text to a continuation.</summary>
    public virtual bool IsSpecialToken(int id) => id == EosTokenId;

    /// <summary>
    /// Token ids of ordinary text, such as a user's message: special tokens written in it are encoded as plain text
    /// (Hugging Face's <c>split_special_tokens=True</c>); added tokens that are not special still match; no BOS.
    /// Encoding takes time linear in the text; <paramref name="cancellationToken"/> is checked as it goes (per
    /// pre-token, and within a long one), so a request that leaves stops paying for a huge prompt.
    /// </summary>
    public abstract IReadOnlyList<int> Encode(string text, CancellationToken cancellationToken = default);

    /// <summary>
    /// Token ids of text a template produced: special tokens written in it (such as <c>&lt;|endoftext|&gt;</c>) become
    /// their ids; the rest is encoded as ordinary text. User text must go through <see cref="Encode"/>.
    /// </summary>
    public virtual IReadOnlyList<int> EncodeWithSpecialTokens(string text, CancellationToken cancellationToken = default)
    {
        if (EosToken is not string eos || EosTokenId is not int eosId || !text.Contains(eos, StringComparison.Ordinal)) return Encode(text, cancellationToken);
        var ids = new List<int>();
        string[] pieces = text.Split(eos);
        for (int i = 0; i < pieces.Length; i++)
        {
            if (i > 0) ids.Add(eosId);
            if (pieces[i].Length > 0) ids.AddRange(Encode(pieces[i], cancellationToken));
        }
        return ids;
    }

    /// <summary>
    /// Token ids of a raw prompt as vLLM encodes one (Hugging Face's <c>tokenizer(text, add_special_tokens=...)</c>):
    /// special tokens written in it match, and with <paramref name="addSpecialTokens"/> the post-processor adds what
    /// the model expects around a sequence (Llama's BOS). The base class has no post-processor.
    /// </summary>
    public virtual IReadOnlyList<int> EncodePrompt(string text, bool addSpecialTokens = true, CancellationToken cancellationToken = default) =>
        EncodeWithSpecialTokens(text, cancellationToken);

    /// <summary>
    /// The bytes token <paramref name="id"/> adds to a continuation (the text generated after a prompt): empty for
    /// special tokens; rules that apply only at the very start of a decoded sequence (SentencePiece's stripped
    /// first space) do not apply, so a streamed answer keeps its leading space, as vLLM's detokenizer keeps it.
    /// Bytes of one character may be spread over several tokens.
    /// </summary>
    public abstract ReadOnlySpan<byte> TokenBytes(int id);

    /// <summary>Writes the tokenizer's files into a model folder, so <see cref="TokenizerLoader"/> reads it back.</summary>
    public abstract void Save(string modelDirectory);

    /// <summary>
    /// Text of the ids as a continuation: the concatenated <see cref="TokenBytes"/> read as UTF-8 (special tokens
    /// produce no text; invalid UTF-8 becomes U+FFFD) — what streaming them produces. For Hugging Face's exact
    /// <c>tokenizer.decode</c> use <see cref="Decode(IEnumerable{int}, bool)"/>.
    /// </summary>
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

    /// <summary>
    /// Hugging Face's <c>tokenizer.decode(ids, skip_special_tokens=...)</c>: the whole sequence through the tokenizer's
    /// decoder (including what applies only at its start) and transformers' <c>clean_up_tokenization_spaces</c>.
    /// Ids without a token are skipped, as tokenizers' decode skips them (a caller that must refuse them checks
    /// <see cref="VocabSize"/>). The base class writes special tokens as their text (EOS only) or leaves them out.
    /// </summary>
    public virtual string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (id < 0 || id >= VocabSize) continue;
            if (IsSpecialToken(id))
            {
                if (!skipSpecialTokens && id == EosTokenId && EosToken is string eos) bytes.AddRange(Encoding.UTF8.GetBytes(eos));
                continue;
            }
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
