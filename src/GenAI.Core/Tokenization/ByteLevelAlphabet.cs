namespace GenAI.Core.Tokenization;

/// <summary>
/// GPT-2's byte-level alphabet (<c>bytes_to_unicode</c>): every byte is written as a printable character in
/// vocab.json — printable Latin-1 bytes as themselves, the others as U+0100 onwards.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly Dictionary<char, byte> CharToByte = Build();

    public static byte[] ToBytes(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            if (!CharToByte.TryGetValue(token[i], out bytes[i]))
            {
                throw new InvalidDataException($"token '{token}' has character U+{(int)token[i]:X4}, which is not in GPT-2's byte-level alphabet");
            }
        }
        return bytes;
    }

    private static Dictionary<char, byte> Build()
    {
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        var map = new Dictionary<char, byte>(256);
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            map[Printable(b) ? (char)b : (char)(256 + next++)] = (byte)b;
        }
        return map;
    }
}
