namespace GenAI.Core.Generation;

/// <summary>A finished (or, at the length limit, final) beam: its tokens and scores.</summary>
/// <param name="Tokens">The generated tokens (an ending EOS/stop token included).</param>
/// <param name="SumLogProbs">Sum of the tokens' log-probabilities.</param>
/// <param name="Score">SumLogProbs / Tokens.Count^length_penalty.</param>
/// <param name="Ended">True when it ended on EOS or a stop token, false when it hit max_tokens.</param>
public sealed record BeamHypothesis(IReadOnlyList<int> Tokens, double SumLogProbs, double Score, bool Ended);

/// <summary>
/// The best <c>num_beams</c> finished hypotheses of one beam search and Hugging Face's rule for when the search
/// is done (<c>BeamHypotheses.is_done</c>).
/// </summary>
public sealed class BeamHypotheses(int numBeams, double lengthPenalty, EarlyStopping earlyStopping, int maxNewTokens)
{
    private readonly List<BeamHypothesis> _kept = [];

    /// <summary>The kept hypotheses, best first.</summary>
    public IReadOnlyList<BeamHypothesis> Best => _kept.OrderByDescending(h => h.Score).ToList();

    /// <summary>Number kept.</summary>
    public int Count => _kept.Count;

    /// <summary>The lowest kept score.</summary>
    public double WorstScore => _kept.Count == 0 ? double.PositiveInfinity : _kept.Min(h => h.Score);

    /// <summary>Score of a hypothesis with <paramref name="newTokens"/> tokens (EOS counted).</summary>
    public double ScoreOf(double sumLogProbs, int newTokens) => sumLogProbs / Math.Pow(newTokens, lengthPenalty);

    /// <summary>Adds a hypothesis if it ranks among the best <c>num_beams</c>.</summary>
    public void Add(IReadOnlyList<int> tokens, double sumLogProbs, bool ended)
    {
        double score = ScoreOf(sumLogProbs, tokens.Count);
        if (_kept.Count < numBeams || score > WorstScore)
        {
            _kept.Add(new BeamHypothesis(tokens, sumLogProbs, score, ended));
            if (_kept.Count > numBeams) _kept.Remove(_kept.MinBy(h => h.Score)!);
        }
    }

    /// <summary>
    /// True when no running beam can still enter the kept set: with <see cref="EarlyStopping.Always"/> as soon as
    /// num_beams finished; otherwise when the best running sum (<paramref name="bestRunningSum"/> at
    /// <paramref name="currentLength"/> new tokens) cannot beat the worst kept score — judged at the current length
    /// (<see cref="EarlyStopping.Heuristic"/>) or at the most favourable length (<see cref="EarlyStopping.Never"/>).
    /// </summary>
    public bool IsDone(double bestRunningSum, int currentLength)
    {
        if (_kept.Count < numBeams) return false;
        if (earlyStopping == EarlyStopping.Always) return true;
        int length = earlyStopping == EarlyStopping.Never && lengthPenalty > 0 ? maxNewTokens : currentLength;
        return WorstScore >= ScoreOf(bestRunningSum, length);
    }
}
