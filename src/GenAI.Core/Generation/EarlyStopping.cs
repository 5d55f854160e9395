namespace GenAI.Core.Generation;

/// <summary>When beam search stops (Hugging Face's <c>early_stopping</c>).</summary>
public enum EarlyStopping
{
    /// <summary><c>false</c>: stop when no running beam can still beat the worst finished one, judged at the current length.</summary>
    Heuristic,
    /// <summary><c>true</c>: stop as soon as <c>num_beams</c> hypotheses have finished.</summary>
    Always,
    /// <summary><c>"never"</c>: stop only when no better hypothesis is possible (the canonical beam search).</summary>
    Never,
}
