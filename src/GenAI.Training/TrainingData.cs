using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Core.Tokenization;

namespace GenAI.Training;

/// <summary>A training or validation file that cannot be used; the message names the file and, for JSONL, the 1-based line.</summary>
public sealed class TrainingDataException : FormatException
{
    /// <summary>An error in <paramref name="path"/>, at <paramref name="line"/> when it concerns one line.</summary>
    public TrainingDataException(string path, int? line, string problem, Exception? inner = null)
        : base(line is int n ? $"{Path.GetFileName(path)} line {n}: {problem}" : $"{Path.GetFileName(path)}: {problem}", inner)
    {
        FilePath = path;
        Line = line;
        Problem = problem;
    }

    /// <summary>What is wrong, without the file and line.</summary>
    public string Problem { get; }

    /// <summary>The file.</summary>
    public string FilePath { get; }

    /// <summary>The 1-based line, when the problem is on one line.</summary>
    public int? Line { get; }
}

/// <summary>One training document.</summary>
/// <param name="Text">Its text.</param>
/// <param name="FromTemplate">
/// True when a model's chat template wrote it: the special tokens the template wrote (<c>&lt;|im_start|&gt;</c>, ...) are
/// encoded as their ids, as the chat endpoint encodes a prompt; other text keeps special-token spellings as text.
/// </param>
public sealed record TrainingDocument(string Text, bool FromTemplate = false);

/// <summary>
/// Reads training documents. A <c>.jsonl</c> file holds one document per line, in one of the shapes OpenAI's
/// fine-tuning accepts: <c>{"text": ...}</c>, <c>{"prompt": ..., "completion": ...}</c> (the two concatenated) or
/// <c>{"messages": [{"role": ..., "content": ...}, ...]}</c> (rendered with the model's chat template, ending with an
/// assistant reply). Any other file is one plain-text document. Files must be UTF-8; blank JSONL lines are skipped.
/// </summary>
public static class TrainingData
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The documents of <paramref name="path"/>; chat lines use <paramref name="chatTemplate"/> (GenAI's plain
    /// default when null). Throws <see cref="TrainingDataException"/> naming the line of the first bad one.
    /// </summary>
    public static IReadOnlyList<TrainingDocument> ReadDocuments(string path, ChatTemplate? chatTemplate = null)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TrainingDataException(path, null, $"cannot be read: {e.Message}", e);
        }
        var lines = Lines(path, bytes);
        if (lines.All(string.IsNullOrWhiteSpace)) throw new TrainingDataException(path, null, "the file is empty");
        if (!path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase)) return [new TrainingDocument(string.Join('\n', lines))];

        var documents = new List<TrainingDocument>();
        for (int i = 0; i < lines.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            try
            {
                documents.Add(Document(lines[i], chatTemplate ?? ChatTemplate.Default));
            }
            catch (JsonException e)
            {
                throw new TrainingDataException(path, i + 1, $"invalid JSON: {e.Message}", e);
            }
            catch (LineException e)
            {
                throw new TrainingDataException(path, i + 1, e.Message, e.InnerException);
            }
        }
        return documents;
    }

    // Split on '\n' before decoding, so invalid UTF-8 is reported on its line; joined again with '\n' a text file is unchanged.
    private static List<string> Lines(string path, byte[] bytes)
    {
        var span = bytes.AsSpan();
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) span = span[3..];
        var lines = new List<string>();
        int line = 1;
        while (true)
        {
            int end = span.IndexOf((byte)'\n');
            var raw = end < 0 ? span : span[..end];
            try
            {
                lines.Add(StrictUtf8.GetString(raw));
            }
            catch (DecoderFallbackException e)
            {
                throw new TrainingDataException(path, line, "is not valid UTF-8", e);
            }
            if (end < 0) return lines;
            span = span[(end + 1)..];
            line++;
        }
    }

    private static TrainingDocument Document(string line, ChatTemplate chatTemplate)
    {
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new LineException($"expected a JSON object, not {Kind(root)}");
        if (root.TryGetProperty("messages", out var messages)) return new TrainingDocument(Chat(messages, chatTemplate), chatTemplate.IsModelTemplate);
        if (root.TryGetProperty("completion", out _) || root.TryGetProperty("prompt", out _))
        {
            string prompt = String(root, "prompt", allowEmpty: true);
            return new TrainingDocument(prompt + String(root, "completion", allowEmpty: false));
        }
        if (root.TryGetProperty("text", out _)) return new TrainingDocument(String(root, "text", allowEmpty: false));
        throw new LineException("unknown shape: expected {\"text\": ...}, {\"prompt\": ..., \"completion\": ...} or {\"messages\": [...]}");
    }

    // The whole conversation as the template writes a finished one (add_generation_prompt false): the reply with the
    // template's own end of turn, as the model must learn to write it.
    private static string Chat(JsonElement messages, ChatTemplate chatTemplate)
    {
        if (messages.ValueKind != JsonValueKind.Array) throw new LineException($"'messages' must be an array, not {Kind(messages)}");
        var turns = new List<JsonObject>();
        int index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object) throw new LineException($"'messages[{index}]' must be an object, not {Kind(message)}");
            String(message, "role", allowEmpty: false, $"messages[{index}].");
            String(message, "content", allowEmpty: true, $"messages[{index}].");
            turns.Add(JsonObject.Create(message.Clone())!);
            index++;
        }
        if (turns.Count == 0 || (string?)turns[^1]["role"] != "assistant") throw new LineException("'messages' must end with an assistant message (the reply to learn)");
        if (((string?)turns[^1]["content"])!.Trim().Length == 0) throw new LineException($"'messages[{turns.Count - 1}].content' must not be empty");
        try
        {
            return chatTemplate.Render(turns, new ChatRenderOptions { AddGenerationPrompt = false });
        }
        catch (ArgumentException e)
        {
            throw new LineException(e.Message, e);
        }
    }

    private static string String(JsonElement owner, string name, bool allowEmpty, string prefix = "")
    {
        if (!owner.TryGetProperty(name, out var value)) throw new LineException($"'{prefix}{name}' is missing");
        if (value.ValueKind != JsonValueKind.String) throw new LineException($"'{prefix}{name}' must be a string, not {Kind(value)}");
        string text = value.GetString()!;
        if (!allowEmpty && text.Length == 0) throw new LineException($"'{prefix}{name}' must not be empty");
        return text;
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private sealed class LineException(string message, Exception? inner = null) : Exception(message, inner);
}
