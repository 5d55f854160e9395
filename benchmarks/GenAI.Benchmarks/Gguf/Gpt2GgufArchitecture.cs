using System.Text.Json;
using System.Text.RegularExpressions;

namespace GenAI.Benchmarks.Gguf;

/// <summary>
/// GPT-2 as convert_hf_to_gguf.py's <c>GPT2Model</c> writes it: <c>gpt2.*</c> hyperparameters (feed-forward length
/// 4 × n_embd), Conv1D weights transposed to [out, in], <c>wte</c> written twice (token embedding and the tied output).
/// </summary>
internal sealed partial class Gpt2GgufArchitecture(JsonElement config) : IGgufArchitecture
{
    private static readonly Dictionary<string, string> BlockTensors = new(StringComparer.Ordinal)
    {
        ["ln_1"] = "attn_norm",
        ["attn.c_attn"] = "attn_qkv",
        ["attn.c_proj"] = "attn_output",
        ["ln_2"] = "ffn_norm",
        ["mlp.c_fc"] = "ffn_up",
        ["mlp.c_proj"] = "ffn_down",
    };

    public string Name => "gpt2";

    public int VocabSize { get; } = HyperParameters.Int(config, "vocab_size");

    public void AddHyperParameters(GgufWriter writer)
    {
        int embedding = HyperParameters.Int(config, "n_embd");
        writer.AddUInt32("gpt2.block_count", (uint)HyperParameters.Int(config, "n_layer"));
        writer.AddUInt32("gpt2.context_length", (uint)HyperParameters.Int(config, "n_ctx", "n_positions"));
        writer.AddUInt32("gpt2.embedding_length", (uint)embedding);
        writer.AddUInt32("gpt2.feed_forward_length", (uint)(4 * embedding));
        writer.AddUInt32("gpt2.attention.head_count", (uint)HyperParameters.Int(config, "n_head"));
        writer.AddFloat32("gpt2.attention.layer_norm_epsilon", HyperParameters.TryFloat(config, "layer_norm_epsilon") ?? 1e-5f);
    }

    public void AddTokenizerOptions(GgufWriter writer, string folder)
    {
    }

    public IEnumerable<GgufTensorSource> Map(string checkpointName)
    {
        string name = checkpointName.StartsWith("transformer.", StringComparison.Ordinal) ? checkpointName["transformer.".Length..] : checkpointName;
        if (name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal)) return [];
        switch (name)
        {
            case "wte.weight": return [new("token_embd.weight", checkpointName), new("output.weight", checkpointName)];
            case "wpe.weight": return [new("position_embd.weight", checkpointName)];
            case "ln_f.weight": return [new("output_norm.weight", checkpointName)];
            case "ln_f.bias": return [new("output_norm.bias", checkpointName)];
            case "lm_head.weight": return []; // tied to wte, which is written as output.weight
        }
        var match = BlockTensor().Match(name);
        if (!match.Success || !BlockTensors.TryGetValue(match.Groups["module"].Value, out string? gguf))
        {
            throw new InvalidDataException($"the GPT-2 checkpoint tensor '{checkpointName}' has no GGUF name");
        }
        string kind = match.Groups["kind"].Value;
        var rearrangement = kind == "weight" && match.Groups["module"].Value.Contains(".c_", StringComparison.Ordinal) ? TensorRearrangement.Transposed : TensorRearrangement.None;
        return [new($"blk.{match.Groups["block"].Value}.{gguf}.{kind}", checkpointName, rearrangement)];
    }

    [GeneratedRegex(@"^h\.(?<block>\d+)\.(?<module>[a-z_0-9.]+)\.(?<kind>weight|bias)$")]
    private static partial Regex BlockTensor();
}
