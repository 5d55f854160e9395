using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Generation;

/// <summary>
/// Hugging Face's logits processors and warpers, each on one row of logits [vocab] (float32), written from their
/// definitions. Each returns a new tensor; removed tokens get -inf.
/// </summary>
public static class LogitsProcessors
{
    /// <summary>
    /// Repetition penalty over every token in <paramref name="context"/> (prompt and output): positive logits are
    /// divided by <paramref name="penalty"/>, negative ones multiplied (CTRL; HF RepetitionPenaltyLogitsProcessor).
    /// </summary>
    public static Tensor RepetitionPenalty(Tensor logits, IReadOnlyCollection<int> context, double penalty)
    {
        if (penalty == 1.0 || context.Count == 0) return logits;
        using var scope = NewDisposeScope();
        var index = tensor(context.Distinct().Select(t => (long)t).ToArray(), device: logits.device);
        var scores = logits.gather(0, index);
        var penalized = where(scores.lt(0), scores.mul(penalty), scores.div(penalty));
        return logits.scatter(0, index, penalized).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// OpenAI's presence and frequency penalties over the generated tokens: logit -= frequency × count + presence × (count > 0).
    /// </summary>
    public static Tensor PresenceFrequencyPenalty(Tensor logits, IReadOnlyDictionary<int, int> generatedCounts, double presence, double frequency)
    {
        if ((presence == 0 && frequency == 0) || generatedCounts.Count == 0) return logits;
        using var scope = NewDisposeScope();
        var index = tensor(generatedCounts.Keys.Select(t => (long)t).ToArray(), device: logits.device);
        var penalty = tensor(generatedCounts.Values.Select(c => (float)(frequency * c + presence)).ToArray(), device: logits.device);
        return logits.index_add(0, index, penalty, -1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Bans every token that would complete an n-gram of size <paramref name="n"/> already present in
    /// <paramref name="sequence"/> (prompt and output; HF NoRepeatNGramLogitsProcessor).
    /// </summary>
    public static Tensor NoRepeatNgram(Tensor logits, IReadOnlyList<int> sequence, int n)
    {
        var banned = NoRepeatNgramBannedTokens(sequence, n);
        return banned.Count == 0 ? logits : Ban(logits, banned);
    }

    /// <summary>The tokens <see cref="NoRepeatNgram"/> bans after <paramref name="sequence"/>.</summary>
    public static HashSet<int> NoRepeatNgramBannedTokens(IReadOnlyList<int> sequence, int n)
    {
        var banned = new HashSet<int>();
        if (n <= 0 || sequence.Count + 1 < n) return banned;
        int prefixStart = sequence.Count - (n - 1);
        for (int start = 0; start + n <= sequence.Count; start++)
        {
            bool match = true;
            for (int j = 0; j < n - 1 && match; j++) match = sequence[start + j] == sequence[prefixStart + j];
            if (match) banned.Add(sequence[start + n - 1]);
        }
        return banned;
    }

    /// <summary>Adds OpenAI's <c>logit_bias</c> to the named tokens.</summary>
    public static Tensor LogitBias(Tensor logits, IReadOnlyDictionary<int, double> bias)
    {
        if (bias.Count == 0) return logits;
        using var scope = NewDisposeScope();
        var index = tensor(bias.Keys.Select(t => (long)t).ToArray(), device: logits.device);
        var values = tensor(bias.Values.Select(b => (float)b).ToArray(), device: logits.device);
        return logits.index_add(0, index, values, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Sets the given tokens to -inf (EOS before <c>min_tokens</c>, banned n-grams).</summary>
    public static Tensor Ban(Tensor logits, IEnumerable<int> tokens)
    {
        var list = tokens.Select(t => (long)t).ToArray();
        if (list.Length == 0) return logits;
        using var scope = NewDisposeScope();
        var index = tensor(list, device: logits.device);
        return logits.index_fill(0, index, float.NegativeInfinity).MoveToOuterDisposeScope();
    }

    /// <summary>Divides by the temperature (&gt; 0).</summary>
    public static Tensor Temperature(Tensor logits, double temperature) => temperature == 1.0 ? logits : logits.div(temperature);

    /// <summary>Keeps the <paramref name="k"/> largest logits (and any tied with the k-th); 0 or less disables.</summary>
    public static Tensor TopK(Tensor logits, int k)
    {
        if (k <= 0 || k >= logits.shape[0]) return logits;
        using var scope = NewDisposeScope();
        var kth = logits.topk(k).values[k - 1];
        return logits.masked_fill(logits.lt(kth), float.NegativeInfinity).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Nucleus filtering: keeps the smallest set of most likely tokens whose probability reaches <paramref name="p"/>,
    /// the token that crosses it included (HF TopPLogitsWarper: drop tokens whose ascending cumulative mass is ≤ 1 - p).
    /// </summary>
    public static Tensor TopP(Tensor logits, double p)
    {
        if (p >= 1.0) return logits;
        using var scope = NewDisposeScope();
        var (sorted, indices) = logits.sort(descending: false);
        var cumulative = sorted.softmax(0).cumsum(0);
        var removeSorted = cumulative.le(1 - p);
        removeSorted[-1] = false; // always keep the most likely token
        var remove = removeSorted.scatter(0, indices, removeSorted);
        return logits.masked_fill(remove, float.NegativeInfinity).MoveToOuterDisposeScope();
    }

    /// <summary>Drops tokens whose probability is below <paramref name="minP"/> × the top probability (HF MinPLogitsWarper).</summary>
    public static Tensor MinP(Tensor logits, double minP)
    {
        if (minP <= 0) return logits;
        using var scope = NewDisposeScope();
        var probs = logits.softmax(0);
        var threshold = probs.max().mul(minP);
        var remove = probs.lt(threshold);
        remove[logits.argmax()] = false;
        return logits.masked_fill(remove, float.NegativeInfinity).MoveToOuterDisposeScope();
    }
}
