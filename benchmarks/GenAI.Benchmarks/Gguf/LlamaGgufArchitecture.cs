using System.Text.Json;
using System.Text.RegularExpressions;

namespace GenAI.Benchmarks.Gguf;

/// <summary>
/// The Llama architecture as convert_hf_to_gguf.py's <c>LlamaModel</c> writes it: <c>llama.*</c> hyperparameters
/// (the base model's keys plus vocab size and rope dimension count), q/k projections permuted for llama.cpp's rope,
/// the output head only when the checkpoint has one (tied models share the token embedding).
/// </summary>
internal sealed partial class LlamaGgufArchitecture(JsonElement config) : IGgufArchitecture
{
    private static readonly Dictionary<string, string> BlockTensors = new(StringComparer.Ordinal)
    {
        ["input_layernorm"] = "attn_norm",
        ["self_attn.q_proj"] = "attn_q",
        ["self_attn.k_proj"] = "attn_k",
        ["self_attn.v_proj"] = "attn_v",
        ["self_attn.o_proj"] = "attn_output",
        ["post_attention_layernorm"] = "ffn_norm",
        ["mlp.gate_proj"] = "ffn_gate",
        ["mlp.up_proj"] = "ffn_up",
        ["mlp.down_proj"] = "ffn_down",
    };

    private readonly int _heads = HyperParameters.Int(config, "num_attention_heads");
    private readonly int _kvHeads = HyperParameters.TryInt(config, "num_key_value_heads") ?? HyperParameters.Int(config, "num_attention_heads");

    public string Name => "llama";

    public int VocabSize { get; } = HyperParameters.Int(config, "vocab_size");

    public void AddHyperParameters(GgufWriter writer)
    {
        if (config.TryGetProperty("rope_scaling", out var scaling) && scaling.ValueKind != JsonValueKind.Null)
        {
            throw new NotSupportedException("the exporter writes models without rope_scaling");
        }
        int hidden = HyperParameters.Int(config, "hidden_size");
        int? headDim = HyperParameters.TryInt(config, "head_dim");
        writer.AddUInt32("llama.block_count", (uint)HyperParameters.Int(config, "num_hidden_layers"));
        writer.AddUInt32("llama.context_length", (uint)HyperParameters.Int(config, "max_position_embeddings"));
        writer.AddUInt32("llama.embedding_length", (uint)hidden);
        writer.AddUInt32("llama.feed_forward_length", (uint)HyperParameters.Int(config, "intermediate_size"));
        writer.AddUInt32("llama.attention.head_count", (uint)_heads);
        writer.AddUInt32("llama.attention.head_count_kv", (uint)_kvHeads);
        if (HyperParameters.TryFloat(config, "rope_theta") is { } theta) writer.AddFloat32("llama.rope.freq_base", theta);
        writer.AddFloat32("llama.attention.layer_norm_rms_epsilon", HyperParameters.TryFloat(config, "rms_norm_eps") ?? 1e-6f);
        if (headDim is { } dim)
        {
            writer.AddUInt32("llama.attention.key_length", (uint)dim);
            writer.AddUInt32("llama.attention.value_length", (uint)dim);
        }
        writer.AddUInt32("llama.vocab_size", (uint)VocabSize);
        writer.AddUInt32("llama.rope.dimension_count", (uint)(headDim ?? hidden / _heads));
    }

    public void AddTokenizerOptions(GgufWriter writer, string folder)
    {
        // LlamaModel.set_vocab: tokenizer_config.json's add_prefix_space.
        string path = Path.Combine(folder, "tokenizer_config.json");
        if (!File.Exists(path)) return;
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        if (document.RootElement.TryGetProperty("add_prefix_space", out var prefix) && prefix.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            writer.AddBool("tokenizer.ggml.add_space_prefix", prefix.GetBoolean());
        }
    }

    public IEnumerable<GgufTensorSource> Map(string checkpointName)
    {
        switch (checkpointName)
        {
            case "model.embed_tokens.weight": return [new("token_embd.weight", checkpointName)];
            case "model.norm.weight": return [new("output_norm.weight", checkpointName)];
            case "lm_head.weight": return [new("output.weight", checkpointName)];
        }
        if (checkpointName.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)) return [];
        var match = BlockTensor().Match(checkpointName);
        if (!match.Success || !BlockTensors.TryGetValue(match.Groups["module"].Value, out string? gguf))
        {
            throw new InvalidDataException($"the Llama checkpoint tensor '{checkpointName}' has no GGUF name");
        }
        string name = $"blk.{match.Groups["block"].Value}.{gguf}.{match.Groups["kind"].Value}";
        return gguf switch
        {
            "attn_q" => [new(name, checkpointName, TensorRearrangement.RopePermuted, _heads)],
            "attn_k" => [new(name, checkpointName, TensorRearrangement.RopePermuted, _kvHeads)],
            _ => [new(name, checkpointName)],
        };
    }

    [GeneratedRegex(@"^model\.layers\.(?<block>\d+)\.(?<module>[a-z_.]+)\.(?<kind>weight|bias)$")]
    private static partial Regex BlockTensor();
}
