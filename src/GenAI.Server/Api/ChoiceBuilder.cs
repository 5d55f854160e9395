using System.Text;
using GenAI.Core.Generation;
using GenAI.Core.Tokenization;

namespace GenAI.Server.Api;

/// <summary>Gathers one choice's text, finish reason and log-probs from its events.</summary>
public sealed class ChoiceBuilder(TextTokenizer tokenizer, string prefix)
{
    private readonly StringBuilder _text = new(prefix);
    private readonly CompletionLogprobs _logprobs = new([], [], [], []);
    private readonly List<ChatTokenLogprob> _chatLogprobs = [];

    public string Text => _text.ToString();
    public FinishReason? Finish { get; private set; }
    public double? Score { get; private set; }
    public CompletionLogprobs Logprobs => _logprobs;
    public ChatLogprobs ChatLogprobs => new(_chatLogprobs);

    /// <summary>Adds an event; returns the completions-format log-probs of its token (for a stream chunk) when asked for.</summary>
    public CompletionLogprobs? Add(GenerationEvent e, bool withLogprobs)
    {
        CompletionLogprobs? chunk = null;
        if (withLogprobs && e.LogProb is { } lp)
        {
            string token = tokenizer.TokenText(lp.TokenId);
            var top = new Dictionary<string, float>();
            foreach (var (id, value) in lp.Top) top.TryAdd(tokenizer.TokenText(id), value);
            chunk = new CompletionLogprobs([token], [lp.LogProb], [top], [_text.Length]);
            _logprobs.Tokens.Add(token);
            _logprobs.TokenLogprobs.Add(lp.LogProb);
            _logprobs.TopLogprobs.Add(top);
            _logprobs.TextOffset.Add(_text.Length);
        }
        if (e.LogProb is { } chat) _chatLogprobs.Add(ChatEntry(chat));
        _text.Append(e.Text);
        if (e.Finish is not null) Finish = e.Finish;
        if (e.Score is not null) Score = e.Score;
        return chunk;
    }

    /// <summary>The chat-format log-prob entry of an event's token.</summary>
    public ChatTokenLogprob ChatEntry(TokenLogProb lp) =>
        new(tokenizer.TokenText(lp.TokenId), lp.LogProb, Bytes(lp.TokenId),
            lp.Top.Select(t => new ChatTopLogprob(tokenizer.TokenText(t.TokenId), t.LogProb, Bytes(t.TokenId))).ToList());

    /// <summary>OpenAI lists a token's UTF-8 bytes as integers.</summary>
    private int[] Bytes(int token)
    {
        var bytes = tokenizer.TokenBytes(token);
        var result = new int[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) result[i] = bytes[i];
        return result;
    }
}
