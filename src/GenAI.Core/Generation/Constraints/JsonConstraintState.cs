using System.Diagnostics;

namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// One output's progress through a <see cref="JsonConstraint"/>: which tokens may come next
/// (<see cref="AllowedTokens"/>), and the state after the chosen one (<see cref="TryAdvance(int)"/>). A token is
/// allowed when its bytes continue a valid JSON text of the grammar — it may close a string and open the next key,
/// end mid-character or mid-escape — and the state after it can still be completed. End tokens are allowed exactly
/// when the value is complete, and then only they are; special tokens never otherwise; ids beyond the tokenizer's
/// vocabulary never. Masks come from the tokenizer's cache when the state was seen before (by this or any request).
/// Not thread-safe: one output, one thread (the engine's).
/// </summary>
public sealed class JsonConstraintState : ITokenRule
{
    private readonly TokenVocabulary _vocabulary;
    private readonly HashSet<int> _endTokens;
    private readonly TrieWalker _walker = new();
    private StateSet _states;
    private TokenMask? _mask;
    private bool? _canEnd;
    private long _maskTicks;

    internal JsonConstraintState(JsonConstraint constraint, TokenVocabulary vocabulary, IEnumerable<int> endTokens, int leadingWhitespace)
    {
        Constraint = constraint;
        _vocabulary = vocabulary;
        _endTokens = [.. endTokens];
        _states = new StateSet([new RootFrame(constraint.Grammar, leadingWhitespace)]);
    }

    /// <summary>The constraint this state follows.</summary>
    public JsonConstraint Constraint { get; }

    /// <summary>True once the value is complete (only end tokens may follow), and after an end token.</summary>
    public bool IsComplete => Ended || _states.IsFinished;

    bool ITokenRule.OnlyEnd => IsComplete;

    /// <summary>True once an end token was accepted.</summary>
    public bool Ended { get; private set; }

    /// <summary>True when the output may end here: the value is complete (or a top-level number that could also go on).</summary>
    public bool CanEnd => !Ended && (_canEnd ??= _states.CanEnd);

    /// <summary>The request's end tokens (EOS, stop token ids).</summary>
    public IReadOnlySet<int> EndTokens => _endTokens;

    /// <summary>Masks computed (not found in the cache) for this output.</summary>
    public int MasksComputed { get; private set; }

    /// <summary>Masks asked for by this output (computed or found in the cache).</summary>
    public int MasksRequested { get; private set; }

    /// <summary>Time spent in <see cref="AllowedTokens"/> for this output.</summary>
    public TimeSpan MaskTime => Stopwatch.GetElapsedTime(0, _maskTicks);

    /// <summary>
    /// The tokens that may come next. The mask may be shared with a cache (read-only): <see cref="TokenMask.Clone"/>
    /// it to change it. Empty after an end token, or when the vocabulary has no token for any allowed byte (a tiny
    /// character vocabulary: the caller should end the output).
    /// </summary>
    public TokenMask AllowedTokens()
    {
        if (_mask is not null) return _mask;
        long start = Stopwatch.GetTimestamp();
        MasksRequested++;
        TokenMask mask;
        if (Ended)
        {
            mask = new TokenMask(_vocabulary.Size).Freeze();
        }
        else if (!_vocabulary.Masks.TryGet(_states, out mask))
        {
            MasksComputed++;
            mask = new TokenMask(_vocabulary.Size);
            if (_states.IsPlainStringContent)
            {
                // Inside a plain string most of the vocabulary is plain text, which leaves the state as it is: those
                // tokens are one precomputed set, and only the rest (quotes, escapes, partial characters) is walked.
                mask.UnionWith(_vocabulary.PlainString);
                _walker.Walk(_vocabulary.NonPlainString, _states.Frames, mask);
            }
            else
            {
                _walker.Walk(_vocabulary.All, _states.Frames, mask);
            }
            _vocabulary.Masks.Add(_states, mask.Freeze());
        }
        if (CanEnd && _endTokens.Count > 0)
        {
            mask = mask.Clone();
            foreach (int token in _endTokens) mask.Set(token);
            mask.Freeze();
        }
        _mask = mask;
        _maskTicks += Stopwatch.GetTimestamp() - start;
        return mask;
    }

    /// <summary>True when <paramref name="token"/> may come next (without building the whole mask: a greedy pick is checked alone).</summary>
    public bool IsAllowed(int token)
    {
        if (_mask is not null) return _mask[token];
        if (Ended) return false;
        if (_endTokens.Contains(token) && CanEnd) return true;
        if ((uint)token >= (uint)_vocabulary.Size || _vocabulary.Bytes[token] is not byte[] bytes) return false;
        return _states.Advance(bytes) is not null;
    }

    /// <summary>Moves past <paramref name="token"/>; false (and no change) when it is not allowed.</summary>
    public bool TryAdvance(int token)
    {
        if (Ended) return false;
        if (_endTokens.Contains(token) && CanEnd)
        {
            Ended = true;
            Invalidate();
            return true;
        }
        if ((uint)token >= (uint)_vocabulary.Size || _vocabulary.Bytes[token] is not byte[] bytes) return false;
        return TryAdvance(bytes);
    }

    /// <summary>
    /// Moves past raw output bytes (text already written when the constraint takes over mid-output, such as the rest
    /// of a token that carried a tool-call opener); false (and no change) when they do not continue the value.
    /// </summary>
    public bool TryAdvance(ReadOnlySpan<byte> bytes)
    {
        if (Ended) return false;
        if (bytes.IsEmpty) return true;
        if (_states.Advance(bytes) is not { } next) return false;
        _states = next;
        Invalidate();
        return true;
    }

    /// <summary>For tests: whether <paramref name="bytes"/> continue the value, stepped byte by byte without the mask.</summary>
    internal bool IsAllowedSlow(ReadOnlySpan<byte> bytes) => !Ended && _states.Advance(bytes) is not null;

    private void Invalidate()
    {
        _mask = null;
        _canEnd = null;
    }
}
