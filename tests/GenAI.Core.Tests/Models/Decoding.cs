using GenAI.Core.Models;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models;

/// <summary>Minimal greedy decoding for model tests (the generation engine has its own tests).</summary>
internal static class Decoding
{
    /// <summary>Greedy tokens with the KV cache: prefill, then one token at a time; also returns each step's logits.</summary>
    public static (long[] Tokens, List<float[]> StepLogits) GreedyWithCache(CausalLanguageModel model, long[] prompt, int newTokens)
    {
        using var inference = inference_mode();
        using var cache = model.CreateKvCache(1, prompt.Length + newTokens);
        var tokens = new List<long>();
        var stepLogits = new List<float[]>();
        long[] input = prompt;
        for (int i = 0; i < newTokens; i++)
        {
            using var scope = NewDisposeScope();
            var logits = model.Forward(tensor(input, [1, input.Length]), cache, lastPositionOnly: true)[0, 0];
            stepLogits.Add(logits.data<float>().ToArray());
            long next = logits.argmax().item<long>();
            tokens.Add(next);
            input = [next];
        }
        return (tokens.ToArray(), stepLogits);
    }

    /// <summary>Greedy tokens by recomputing the whole sequence each step (no cache).</summary>
    public static long[] GreedyFull(CausalLanguageModel model, long[] prompt, int newTokens)
    {
        using var inference = inference_mode();
        var sequence = prompt.ToList();
        for (int i = 0; i < newTokens; i++)
        {
            using var scope = NewDisposeScope();
            var logits = model.Forward(tensor(sequence.ToArray(), [1, sequence.Count]), lastPositionOnly: true);
            sequence.Add(logits[0, 0].argmax().item<long>());
        }
        return sequence.Skip(prompt.Length).ToArray();
    }

    public static float[] FullLogits(CausalLanguageModel model, long[] ids)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        return model.Forward(tensor(ids, [1, ids.Length])).data<float>().ToArray();
    }
}
