using System.Globalization;
using System.Text;

namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>
/// A tokenizer.json decoder, in two readings:
/// <list type="bullet">
/// <item><see cref="Decode"/>: tokenizers' <c>decode_chain</c> over a whole sequence of token strings, exactly.</item>
/// <item><see cref="Continue"/>: what one token contributes to a continuation (the text streamed after a prompt):
/// rules that apply only at the start of a whole decoded sequence (Strip after the tokens are fused, Metaspace's
/// dropped first space) do not apply, as in vLLM's incremental detokenizer.</item>
/// </list>
/// </summary>
internal abstract class TokenDecoder
{
    public abstract List<string> Decode(List<string> tokens);

    /// <param name="piece">the token so far: text, or bytes once a byte-level step produced them.</param>
    /// <param name="fused">set once the chain has joined the tokens into one string (Fuse, ByteLevel).</param>
    public abstract TokenPiece Continue(TokenPiece piece, ref bool fused);
}

/// <summary>One token's contribution while a decoder chain runs: text, or raw bytes (which may be part of a character).</summary>
internal readonly record struct TokenPiece(string? Text, byte[]? Bytes)
{
    public static TokenPiece FromText(string text) => new(text, null);

    /// <summary>The piece as text when it is (or its bytes are) whole UTF-8; null for a partial character.</summary>
    public string? AsText()
    {
        if (Text is not null) return Text;
        try
        {
            return StrictUtf8.GetString(Bytes!);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    public byte[] ToBytes() => Bytes ?? Encoding.UTF8.GetBytes(Text!);

    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
}

/// <summary>ByteLevel: every character of the alphabet back to its byte; the bytes of all tokens read as one UTF-8 text.</summary>
internal sealed class ByteLevelDecoder : TokenDecoder
{
    public override List<string> Decode(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (string token in tokens) bytes.AddRange(TokenBytes(token));
        return [Encoding.UTF8.GetString(bytes.ToArray())];
    }

    public override TokenPiece Continue(TokenPiece piece, ref bool fused)
    {
        fused = true;
        return piece.Text is null ? piece : new TokenPiece(null, TokenBytes(piece.Text));
    }

    /// <summary>A token whose characters are not all in the alphabet (an added token with a space, say) is its UTF-8.</summary>
    private static byte[] TokenBytes(string token) =>
        ByteLevelAlphabet.TryToBytes(token, out var bytes) ? bytes : Encoding.UTF8.GetBytes(token);
}

/// <summary>ByteFallback: <c>&lt;0xNN&gt;</c> tokens become bytes; a run that is not UTF-8 becomes one U+FFFD per byte.</summary>
internal sealed class ByteFallbackDecoder : TokenDecoder
{
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    public override List<string> Decode(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var pending = new List<byte>();
        foreach (string token in tokens)
        {
            if (TryParse(token, out byte b))
            {
                pending.Add(b);
                continue;
            }
            Flush(pending, result);
            result.Add(token);
        }
        Flush(pending, result);
        return result;
    }

    public override TokenPiece Continue(TokenPiece piece, ref bool fused) =>
        piece.Text is not null && TryParse(piece.Text, out byte b) ? new TokenPiece(null, [b]) : piece;

    private static void Flush(List<byte> pending, List<string> result)
    {
        if (pending.Count == 0) return;
        try
        {
            result.Add(StrictUtf8.GetString(pending.ToArray()));
        }
        catch (DecoderFallbackException)
        {
            for (int i = 0; i < pending.Count; i++) result.Add("\uFFFD");
        }
        pending.Clear();
    }

    private static bool TryParse(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }
}

/// <summary>Fuse: all tokens joined into one.</summary>
internal sealed class FuseDecoder : TokenDecoder
{
    public override List<string> Decode(List<string> tokens) => [string.Concat(tokens)];

    public override TokenPiece Continue(TokenPiece piece, ref bool fused)
    {
        fused = true;
        return piece;
    }
}

/// <summary>Strip: up to <c>start</c> leading and <c>stop</c> trailing <c>content</c> characters off each token.</summary>
internal sealed class StripDecoder(char content, int start, int stop) : TokenDecoder
{
    public override List<string> Decode(List<string> tokens) => tokens.Select(Strip).ToList();

    /// <summary>Once fused, the one token is the whole sequence: its ends are not a continuation's.</summary>
    public override TokenPiece Continue(TokenPiece piece, ref bool fused) =>
        fused || piece.AsText() is not string text ? piece : TokenPiece.FromText(Strip(text));

    private string Strip(string token)
    {
        // tokenizers counts characters (code points); the content is one BMP character.
        int startCut = 0;
        for (int i = 0; i < start && i < token.Length && token[i] == content; i++) startCut = i + 1;
        int stopCut = token.Length;
        for (int i = 0; i < stop && token.Length - i - 1 >= startCut && token[token.Length - i - 1] == content; i++) stopCut = token.Length - i - 1;
        return token[startCut..Math.Max(startCut, stopCut)];
    }
}

/// <summary>Replace: every match of a pattern in each token becomes the content.</summary>
internal sealed class ReplaceDecoder(TextPattern pattern, string content) : TokenDecoder
{
    public override List<string> Decode(List<string> tokens) => tokens.Select(t => pattern.Replace(t, content)).ToList();

    public override TokenPiece Continue(TokenPiece piece, ref bool fused) =>
        piece.AsText() is string text ? TokenPiece.FromText(pattern.Replace(text, content)) : piece;
}

/// <summary>Metaspace: the replacement character back to a space, except the first token's when a space was prepended.</summary>
internal sealed class MetaspaceDecoder(char replacement, PrependScheme prependScheme) : TokenDecoder
{
    public override List<string> Decode(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            bool dropReplacement = i == 0 && prependScheme != PrependScheme.Never;
            result.Add(dropReplacement ? tokens[i].Replace(replacement.ToString(), "") : tokens[i].Replace(replacement, ' '));
        }
        return result;
    }

    public override TokenPiece Continue(TokenPiece piece, ref bool fused) =>
        piece.AsText() is string text ? TokenPiece.FromText(text.Replace(replacement, ' ')) : piece;
}

/// <summary>Sequence: the decoders in order.</summary>
internal sealed class SequenceDecoder(IReadOnlyList<TokenDecoder> decoders) : TokenDecoder
{
    public override List<string> Decode(List<string> tokens)
    {
        foreach (var decoder in decoders) tokens = decoder.Decode(tokens);
        return tokens;
    }

    public override TokenPiece Continue(TokenPiece piece, ref bool fused)
    {
        foreach (var decoder in decoders) piece = decoder.Continue(piece, ref fused);
        return piece;
    }
}
