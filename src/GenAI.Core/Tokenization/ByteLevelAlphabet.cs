using System.Text;

namespace GenAI.Core.Tokenization;

/// <summary>
/// GPT-2's byte-level alphabet (<c>bytes_to_unicode</c>): every byte is written as a printable character in
/// vocab.json — printable Latin-1 bytes as themselves, the others as U+0100 onwards.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = new char[256];
    private static readonly short[] CharToByte = BuildTables();

    /// <summary>The bytes of a token whose every character is in the alphabet; false for any other token.</summary>
    public static bool TryToBytes(string token, out byte[] bytes)
    {
        bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            char c = token[i];
            int b = c < CharToByte.Length ? CharToByte[c] : -1;
            if (b < 0)
            {
                bytes = [];
                return false;
            }
            bytes[i] = (byte)b;
        }
        return true;
    }

    /// <summary>The text's UTF-8 bytes, each written as its alphabet character.</summary>
    public static string FromText(string text)
    {
        int count = Encoding.UTF8.GetByteCount(text);
        byte[] utf8 = count <= 1024 ? new byte[count] : System.Buffers.ArrayPool<byte>.Shared.Rent(count);
        try
        {
            Encoding.UTF8.GetBytes(text, utf8);
            return string.Create(count, utf8, static (chars, bytes) =>
            {
                for (int i = 0; i < chars.Length; i++) chars[i] = ByteToChar[bytes[i]];
            });
        }
        finally
        {
            if (count > 1024) System.Buffers.ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    private static short[] BuildTables()
    {
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        var charToByte = new short[256 + 68];
        Array.Fill(charToByte, (short)-1);
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            char c = Printable(b) ? (char)b : (char)(256 + next++);
            ByteToChar[b] = c;
            charToByte[c] = (short)b;
        }
        return charToByte;
    }
}
