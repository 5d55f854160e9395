using System.Text.Json;

namespace GenAI.Core.Tests.Models;

/// <summary>A fixture's reference_outputs.json: per prompt the ids, logits facts and greedy continuation.</summary>
internal sealed record ReferencePrompt(
    string Text, long[] Ids, float[] LastLogitsFirst8, double[] LogitsSumPerPosition, long[] Top5Ids, float[] Top5Logprobs, long[] GreedyIds);

internal static class ReferenceOutputs
{
    /// <summary>The GPT-2 fixture's prompts.</summary>
    public static IReadOnlyList<ReferencePrompt> Prompts { get; } = Load(TestPaths.Gpt2Tiny);

    /// <summary>The prompts of the fixture model in <paramref name="folder"/>.</summary>
    public static List<ReferencePrompt> Load(string folder)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "reference_outputs.json")));
        return doc.RootElement.GetProperty("prompts").EnumerateArray().Select(p => new ReferencePrompt(
            p.GetProperty("text").GetString()!,
            p.GetProperty("ids").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
            p.GetProperty("last_logits_first8").EnumerateArray().Select(e => e.GetSingle()).ToArray(),
            p.GetProperty("logits_sum_per_position").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
            p.GetProperty("top5_ids").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
            p.GetProperty("top5_logprobs").EnumerateArray().Select(e => e.GetSingle()).ToArray(),
            p.GetProperty("greedy_ids").EnumerateArray().Select(e => e.GetInt64()).ToArray())).ToList();
    }

    public static IEnumerable<object[]> PromptIndices() => Enumerable.Range(0, Prompts.Count).Select(i => new object[] { i });
}
