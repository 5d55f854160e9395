using System.Text;

namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>
/// A tokenizer as tokenizers' <c>TokenizerImpl</c> runs it: added tokens cut out of the text (those with
/// <c>normalized: false</c> first, from the original), the normalizer over the rest, the normalized added tokens cut
/// out, the pre-tokenizer, the BPE model on each piece, and the post-processor when special tokens are wanted.
/// Decoding runs the decoder over the token strings.
/// </summary>
internal sealed class TokenizerPipeline
{
    private readonly string?[] _modelTokens;
    private byte[]?[] _continuationBytes;

    public TokenizerPipeline(BpeModel model, TextNormalizer? normalizer, PreTokenizer? preTokenizer, PostProcessor? postProcessor,
        TokenDecoder? decoder)
    {
        Model = model;
        Normalizer = normalizer;
        PreTokenizer = preTokenizer;
        PostProcessor = postProcessor;
        Decoder = decoder;
        int size = model.Vocabulary.Count == 0 ? 0 : model.Vocabulary.Values.Max() + 1;
        _modelTokens = new string?[size];
        foreach (var (token, id) in model.Vocabulary)
        {
            if (id < 0) throw new InvalidDataException($"model vocab: token '{token}' has negative id {id}");
            _modelTokens[id] ??= token;
        }
        VocabSize = size;
        _continuationBytes = new byte[size][];
    }

    public BpeModel Model { get; }

    public TextNormalizer? Normalizer { get; }

    public PreTokenizer? PreTokenizer { get; }

    public PostProcessor? PostProcessor { get; set; }

    public TokenDecoder? Decoder { get; }

    public AddedVocabulary AddedTokens { get; } = new();

    /// <summary>Highest id of the vocabulary and the added tokens, plus one.</summary>
    public int VocabSize { get; private set; }

    /// <summary>Adds tokens (tokenizers' <c>add_tokens</c>).</summary>
    public void AddTokens(IEnumerable<AddedToken> tokens)
    {
        AddedTokens.Add(tokens, Model, Normalizer);
        VocabSize = Math.Max(_modelTokens.Length, AddedTokens.TokensById.Count == 0 ? 0 : AddedTokens.TokensById.Keys.Max() + 1);
        _continuationBytes = new byte[VocabSize][];
    }

    /// <summary>The id of a token (added tokens first, then the model's vocabulary).</summary>
    public int? TokenToId(string token) =>
        AddedTokens.IdOf(token) ?? (Model.Vocabulary.TryGetValue(token, out int id) ? id : null);

    /// <summary>The token string of an id (an added token's content, normalized if it is), or null for a gap.</summary>
    public string? IdToToken(int id) =>
        AddedTokens.TokenText(id) ?? (id >= 0 && id < _modelTokens.Length ? _modelTokens[id] : null);

    /// <summary>True for ids whose token is special (skipped by <c>skip_special_tokens</c>).</summary>
    public bool IsSpecial(int id) => IdToToken(id) is string token && AddedTokens.IsSpecial(token);

    /// <summary>
    /// The ids of <paramref name="text"/>. <paramref name="matchSpecialTokens"/> false encodes special tokens written
    /// in the text as text (tokenizers' <c>encode_special_tokens</c>); <paramref name="addSpecialTokens"/> runs the
    /// post-processor. <paramref name="cancellationToken"/> is checked per pre-token and within a long one.
    /// </summary>
    public List<int> Encode(string text, bool matchSpecialTokens, bool addSpecialTokens, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        text = ReplaceLoneSurrogates(text);
        var ids = new List<int>(text.Length / 3 + 4);
        var originalSplits = new List<AddedTokenSplit>();
        AddedTokens.SplitOriginal(text, matchSpecialTokens, originalSplits);
        var normalizedSplits = new List<AddedTokenSplit>();
        var pieces = new List<PreToken>();
        foreach (var split in originalSplits)
        {
            if (split.TokenId is int tokenId)
            {
                ids.Add(tokenId);
                continue;
            }
            if (split.End == split.Start) continue;
            bool startsAtOrigin = split.Start == 0;
            string segment = text[split.Start..split.End];
            string normalized = Normalizer?.Normalize(segment, ref startsAtOrigin) ?? segment;
            normalizedSplits.Clear();
            AddedTokens.SplitNormalized(normalized, matchSpecialTokens, normalizedSplits);
            foreach (var inner in normalizedSplits)
            {
                if (inner.TokenId is int innerId)
                {
                    ids.Add(innerId);
                    continue;
                }
                if (inner.End == inner.Start) continue;
                var piece = new PreToken(normalized[inner.Start..inner.End], startsAtOrigin && inner.Start == 0);
                if (PreTokenizer is null)
                {
                    Model.Tokenize(piece.Text, ids, cancellationToken);
                    continue;
                }
                pieces.Clear();
                PreTokenizer.Split(piece, pieces);
                foreach (var word in pieces)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Model.Tokenize(word.Text, ids, cancellationToken);
                }
            }
        }
        return addSpecialTokens && PostProcessor is not null ? PostProcessor.Process(ids) : ids;
    }

    /// <summary>tokenizers' <c>decode</c>: the token strings (special ones left out when asked) through the decoder.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        var tokens = new List<string>();
        foreach (int id in ids)
        {
            if (IdToToken(id) is not string token) continue;
            if (skipSpecialTokens && AddedTokens.IsSpecial(token)) continue;
            tokens.Add(token);
        }
        return Decoder is null ? string.Join(' ', tokens) : string.Concat(Decoder.Decode(tokens));
    }

    /// <summary>
    /// The bytes token <paramref name="id"/> adds to a continuation: the decoder's work on that token alone, without
    /// what applies only at the start of a whole sequence; nothing for special tokens and gaps. With no decoder,
    /// tokenizers joins tokens with spaces, so each token brings its space.
    /// </summary>
    public byte[] ContinuationBytes(int id)
    {
        var cache = _continuationBytes;
        if (id >= 0 && id < cache.Length && cache[id] is byte[] cached) return cached;
        byte[] bytes;
        if (IsSpecial(id) || IdToToken(id) is not string token)
        {
            bytes = [];
        }
        else if (Decoder is null)
        {
            bytes = Encoding.UTF8.GetBytes(" " + token);
        }
        else
        {
            bool fused = false;
            bytes = Decoder.Continue(TokenPiece.FromText(token), ref fused).ToBytes();
        }
        if (id >= 0 && id < cache.Length) cache[id] = bytes;
        return bytes;
    }

    /// <summary>Rust strings cannot hold a lone surrogate; Python would refuse one. Here it becomes U+FFFD.</summary>
    private static string ReplaceLoneSurrogates(string text)
    {
        int first = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (first < 0) return text;
        char[]? copy = null;
        for (int i = first; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }
            if (char.IsSurrogate(text[i]))
            {
                copy ??= text.ToCharArray();
                copy[i] = '\uFFFD';
            }
        }
        return copy is null ? text : new string(copy);
    }
}
