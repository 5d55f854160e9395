using System.Text;

namespace GenAI.Core.Tokenization;

/// <summary>
/// Turns a stream of token ids into text as it grows, never emitting a partial multi-byte character: bytes of an
/// unfinished UTF-8 sequence wait in a stateful decoder for the next token. The concatenation of every
/// <see cref="Push"/> and the final <see cref="Flush"/> equals <see cref="TextTokenizer.Decode(IEnumerable{int})"/> of all the ids.
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly TextTokenizer _tokenizer;
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private char[] _chars = new char[64];

    internal StreamingDetokenizer(TextTokenizer tokenizer) => _tokenizer = tokenizer;

    /// <summary>Adds a token; returns the text that became final.</summary>
    public string Push(int id) => Decode(_tokenizer.TokenBytes(id), flush: false);

    /// <summary>Ends the stream; returns any text still held (an unfinished sequence becomes U+FFFD, as in Decode).</summary>
    public string Flush() => Decode([], flush: true);

    private string Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        int needed = _decoder.GetCharCount(bytes, flush);
        if (needed > _chars.Length) _chars = new char[Math.Max(needed, _chars.Length * 2)];
        int written = _decoder.GetChars(bytes, _chars, flush);
        return written == 0 ? "" : new string(_chars, 0, written);
    }
}
