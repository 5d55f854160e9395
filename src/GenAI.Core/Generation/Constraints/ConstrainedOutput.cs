using GenAI.Core.Tokenization;

namespace GenAI.Core.Generation.Constraints;

/// <summary>What may come next under a constraint: a grammar's state, a few fixed tokens, or a union at the answer's start.</summary>
internal interface ITokenRule
{
    /// <summary>True when <paramref name="token"/> may come next (cheap: a greedy pick is checked alone).</summary>
    bool IsAllowed(int token);

    /// <summary>Every token that may come next.</summary>
    TokenMask AllowedTokens();

    /// <summary>True when only end tokens may come (min_tokens then does not ban them).</summary>
    bool OnlyEnd { get; }
}

/// <summary>
/// An <see cref="OutputConstraint"/> at work on one output: a small machine over the output's tokens — thinking,
/// free text, fixed tokens, the value's grammar, the choice between another value and the end — whose
/// <see cref="Rule"/> says what may come next (null while the output is free).
/// </summary>
internal sealed class ConstrainedOutput
{
    private enum Phase { Free, Thinking, AnswerStart, Forced, Value, Choice, End }

    private readonly OutputConstraint _constraint;
    private readonly TextTokenizer _tokenizer;
    private readonly TokenVocabulary _vocabulary;
    private readonly IReadOnlyCollection<int> _endTokens;
    private Phase _phase;
    private IReadOnlyList<int> _forced = [];
    private int _forcedAt;
    private Action? _afterForced;
    private bool _atOutputStart = true;
    private ITokenRule? _rule;
    private TimeSpan _finishedMaskTime;
    private int _finishedMasksComputed;

    public ConstrainedOutput(OutputConstraint constraint, TextTokenizer tokenizer, IReadOnlyCollection<int> endTokens)
    {
        constraint.Validate();
        _constraint = constraint;
        _tokenizer = tokenizer;
        _vocabulary = TokenVocabulary.For(tokenizer);
        _endTokens = endTokens;
        if (constraint.Thinking is { StartsInside: true }) Enter(Phase.Thinking);
        else BeginAnswer();
    }

    /// <summary>The value being written, or null outside it.</summary>
    public JsonConstraintState? State { get; private set; }

    /// <summary>What may come next, or null while the output is free text.</summary>
    public ITokenRule? Rule => _rule;

    /// <summary>True when nothing but the end may follow (the caller ends an output that has no end tokens).</summary>
    public bool MustEnd => _phase == Phase.End || (_phase == Phase.Value && _constraint.IsPlainValue && State!.IsComplete);

    /// <summary>Time spent on masks for this output (computed or found in the cache).</summary>
    public TimeSpan MaskTime => _finishedMaskTime + (State?.MaskTime ?? TimeSpan.Zero);

    /// <summary>Masks this output had to compute (not found in the tokenizer's cache).</summary>
    public int MasksComputed => _finishedMasksComputed + (State?.MasksComputed ?? 0);

    /// <summary>
    /// Moves past the chosen token. False when the constraint does not allow it (which masking prevents; the caller
    /// fails the output).
    /// </summary>
    public bool Observe(int token)
    {
        bool atStart = _atOutputStart;
        _atOutputStart = false;
        if (_rule is not null && !_rule.IsAllowed(token)) return false;
        if (atStart && CanOpenThinking(atStart) && token == _constraint.Thinking!.Open)
        {
            State = null; // a whole answer's value starts again after the block
            Enter(Phase.Thinking);
            return true;
        }
        switch (_phase)
        {
            case Phase.Thinking:
                if (token == _constraint.Thinking!.Close)
                {
                    if (_constraint.IsTriggered) BeginAnswer();
                    else Force(_constraint.Thinking.AfterClose, BeginWholeAnswer);
                }
                return true;
            case Phase.Free:
                if (_constraint.TriggerTokenIds.Contains(token)) Force(_constraint.AfterTrigger, StartValue);
                return true;
            case Phase.AnswerStart:
                return ObserveAnswerStart(token);
            case Phase.Forced:
                if (++_forcedAt >= _forced.Count) _afterForced!();
                else _rule = Fixed([_forced[_forcedAt]], onlyEnd: false);
                return true;
            case Phase.Value:
                return ObserveValue(token);
            case Phase.Choice:
                if (_endTokens.Contains(token)) EnterEnd();
                else Force([.. _constraint.Separator!, .. _constraint.Prefix], StartValue, alreadyWritten: 1);
                return true;
            default: // End: an end token, which finishes the output
                return true;
        }
    }

    private bool ObserveAnswerStart(int token)
    {
        if (_constraint.TriggerTokenIds.Contains(token))
        {
            Force(_constraint.AfterTrigger, StartValue);
            return true;
        }
        if (_endTokens.Contains(token)) return true;
        var bytes = _vocabulary.Bytes[token];
        if (bytes is not null && TokenVocabulary.IsWhitespace(bytes)) return true; // still before the answer's first character
        if (bytes is not null && _rule is AnswerOpening opening && opening.StartsValue(token))
        {
            Enter(Phase.Value);
            State = opening.Value;
            _rule = State;
            return ObserveValue(token);
        }
        Enter(Phase.Free);
        return true;
    }

    private bool ObserveValue(int token)
    {
        var state = State!;
        if (!state.TryAdvance(token)) return false;
        if (_constraint.IsPlainValue || !state.IsComplete) return true;
        _finishedMaskTime += state.MaskTime;
        _finishedMasksComputed += state.MasksComputed;
        State = null;
        Force(_constraint.Suffix, AfterValue);
        return true;
    }

    private void AfterValue()
    {
        if (_constraint.IsTriggered)
        {
            if (_constraint.FreeAfterValue) Enter(Phase.Free);
            else EnterEnd();
        }
        else if (_constraint.Separator is { } separator)
        {
            int next = separator.Count > 0 ? separator[0] : _constraint.Prefix[0];
            _phase = Phase.Choice;
            _rule = Fixed([.. _endTokens, next], onlyEnd: false);
        }
        else
        {
            EnterEnd();
        }
    }

    private void BeginAnswer()
    {
        if (!_constraint.IsTriggered)
        {
            BeginWholeAnswer();
            return;
        }
        if (_constraint.ValueMayOpenAnswer)
        {
            var extra = new List<int>(_constraint.TriggerTokenIds);
            if (CanOpenThinking(_atOutputStart)) extra.Add(_constraint.Thinking!.Open);
            _phase = Phase.AnswerStart;
            _rule = new AnswerOpening(Start(), _vocabulary, [.. extra, .. _endTokens]);
        }
        else
        {
            Enter(Phase.Free);
        }
    }

    /// <summary>The whole answer begins: its prefix (or the value), with the think block's opener as the alternative at the output's start.</summary>
    private void BeginWholeAnswer()
    {
        bool mayThink = CanOpenThinking(_atOutputStart);
        if (_constraint.Prefix.Count > 0)
        {
            Force(_constraint.Prefix, StartValue);
            if (mayThink) _rule = Fixed([_constraint.Prefix[0], _constraint.Thinking!.Open], onlyEnd: false);
            return;
        }
        StartValue();
        if (mayThink) _rule = new WithExtraTokens(State!, [_constraint.Thinking!.Open]);
    }

    // Only at the output's first token: a think block later in the answer is text like any other.
    private bool CanOpenThinking(bool atStart) => atStart && _constraint.Thinking is { StartsInside: false };

    private void StartValue()
    {
        Enter(Phase.Value);
        State = Start();
        _rule = State;
    }

    private JsonConstraintState Start() =>
        _constraint.Json.Start(_tokenizer, _constraint.IsPlainValue ? _endTokens : [], _constraint.LeadingWhitespace);

    /// <summary>Forces <paramref name="tokens"/> (of which the first <paramref name="alreadyWritten"/> were just chosen), then continues.</summary>
    private void Force(IReadOnlyList<int> tokens, Action then, int alreadyWritten = 0)
    {
        if (alreadyWritten >= tokens.Count)
        {
            then();
            return;
        }
        _phase = Phase.Forced;
        _forced = tokens;
        _forcedAt = alreadyWritten;
        _afterForced = then;
        _rule = Fixed([tokens[alreadyWritten]], onlyEnd: false);
    }

    private void EnterEnd()
    {
        _phase = Phase.End;
        _rule = Fixed([.. _endTokens], onlyEnd: true);
    }

    private void Enter(Phase phase)
    {
        _phase = phase;
        _rule = null;
    }

    private FixedTokens Fixed(IEnumerable<int> tokens, bool onlyEnd)
    {
        var mask = new TokenMask(_vocabulary.Size);
        foreach (int token in tokens) mask.Set(token);
        return new FixedTokens(mask.Freeze(), onlyEnd);
    }

    /// <summary>A fixed set of tokens: a forced token, the end, or the choice between another value and the end.</summary>
    private sealed class FixedTokens(TokenMask mask, bool onlyEnd) : ITokenRule
    {
        public bool IsAllowed(int token) => mask[token];

        public TokenMask AllowedTokens() => mask;

        public bool OnlyEnd => onlyEnd;
    }

    /// <summary>A value's state plus a few other tokens (the think block's opener at the output's start).</summary>
    private sealed class WithExtraTokens(JsonConstraintState state, IReadOnlyList<int> extra) : ITokenRule
    {
        private TokenMask? _mask;

        public bool IsAllowed(int token) => extra.Contains(token) || state.IsAllowed(token);

        public TokenMask AllowedTokens()
        {
            if (_mask is not null) return _mask;
            var mask = state.AllowedTokens().Clone();
            foreach (int token in extra) mask.Set(token);
            return _mask = mask.Freeze();
        }

        public bool OnlyEnd => false;
    }

    /// <summary>
    /// The answer's first token when the value may open it (<see cref="OutputConstraint.ValueMayOpenAnswer"/>): whitespace,
    /// a token that begins the value validly, a trigger, the end, or any token that does not begin the value (the
    /// answer is then free text). A token that begins the value invalidly (<c>{x</c>) is the one thing refused.
    /// </summary>
    private sealed class AnswerOpening : ITokenRule
    {
        private readonly TokenVocabulary _vocabulary;
        private readonly IReadOnlyList<int> _extra;
        private readonly TokenVocabulary.OpeningSets _sets;
        private TokenMask? _mask;

        public AnswerOpening(JsonConstraintState value, TokenVocabulary vocabulary, IReadOnlyList<int> extra)
        {
            Value = value;
            _vocabulary = vocabulary;
            _extra = extra;
            _sets = vocabulary.Opening(value.Constraint.FirstByte!.Value);
        }

        public JsonConstraintState Value { get; }

        /// <summary>True when the token's first non-whitespace byte begins the value.</summary>
        public bool StartsValue(int token) => !_sets.OtherText[token] && !_sets.Whitespace[token] && _vocabulary.Bytes[token] is not null;

        public bool IsAllowed(int token) =>
            _extra.Contains(token) || _sets.OtherText[token] || _sets.Whitespace[token] || ((uint)token < (uint)_vocabulary.Size && Value.IsAllowed(token));

        public TokenMask AllowedTokens()
        {
            if (_mask is not null) return _mask;
            var mask = Value.AllowedTokens().Clone();
            mask.UnionWith(_sets.OtherText);
            mask.UnionWith(_sets.Whitespace);
            foreach (int token in _extra) mask.Set(token);
            return _mask = mask.Freeze();
        }

        public bool OnlyEnd => false;
    }
}
