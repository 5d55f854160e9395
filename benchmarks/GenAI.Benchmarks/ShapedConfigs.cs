using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Core.Models;
using GenAI.Core.Models.Gpt2;
using GenAI.Core.Models.Llama;

namespace GenAI.Benchmarks;

/// <summary>Configs of real Llama-family models' shapes, for benchmarks on random weights.</summary>
internal static class ShapedConfigs
{
    private const string SmolLM2_360MJson = """
        {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 49152, "hidden_size": 960,
         "intermediate_size": 2560, "num_hidden_layers": 32, "num_attention_heads": 15, "num_key_value_heads": 5,
         "head_dim": 64, "max_position_embeddings": 8192, "rms_norm_eps": 1e-05, "rope_theta": 100000,
         "tie_word_embeddings": true, "hidden_act": "silu", "bos_token_id": 0, "eos_token_id": 0, "torch_dtype": "bfloat16"}
        """;

    /// <summary>openai-community/gpt2 (124M): 12 layers, 768 wide, 12 heads, 1,024 positions, GPT-2's 50,257 ids.</summary>
    public static Gpt2Config Gpt2_124M() => new() { VocabSize = 50257, Positions = 1024, Embedding = 768, Layers = 12, Heads = 12 };

    /// <summary>HuggingFaceTB/SmolLM2-360M: 32 layers, 960 wide, 15 query heads sharing 5 key/value heads, tied.</summary>
    public static LlamaConfig SmolLM2_360M() => Parse(SmolLM2_360MJson);

    /// <summary>
    /// SmolLM2-360M's shape scoring GPT-2's 50,257 ids (BOS and EOS <c>&lt;|endoftext|&gt;</c>), so GPT-2's
    /// vocab.json + merges.txt serve as its tokenizer wherever a real BPE vocabulary file is needed (GGUF export).
    /// </summary>
    public static LlamaConfig SmolLM2_360MWithGpt2Vocabulary()
    {
        var json = JsonNode.Parse(SmolLM2_360MJson)!.AsObject();
        json["vocab_size"] = 50257;
        json["bos_token_id"] = 50256;
        json["eos_token_id"] = 50256;
        return Parse(json.ToJsonString());
    }

    /// <summary>meta-llama/Llama-3.2-1B: 16 layers, 2048 wide, 32 query heads sharing 8 key/value heads, tied, 1.24B parameters.</summary>
    public static LlamaConfig Llama32_1B() => Parse("""
        {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 128256, "hidden_size": 2048,
         "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
         "head_dim": 64, "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000,
         "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"},
         "tie_word_embeddings": true, "hidden_act": "silu", "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "torch_dtype": "bfloat16"}
        """);

    /// <summary>Qwen/Qwen2.5-0.5B: 24 layers, 896 wide, 14 query heads sharing 2 key/value heads, q/k/v biases, tied, vocabulary 151936.</summary>
    public static LlamaConfig Qwen25_05B() => Parse("""
        {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "vocab_size": 151936, "hidden_size": 896,
         "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
         "max_position_embeddings": 32768, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "tie_word_embeddings": true,
         "hidden_act": "silu", "bos_token_id": 151643, "eos_token_id": 151645, "torch_dtype": "bfloat16",
         "use_sliding_window": false, "sliding_window": 32768, "max_window_layers": 21}
        """, LlamaFamily.Qwen2);

    private static LlamaConfig Parse(string json, LlamaFamily? family = null)
    {
        using var document = JsonDocument.Parse(json);
        return (LlamaConfig)(family ?? LlamaFamily.Llama).ParseConfig(new ConfigReader("config.json", document.RootElement));
    }
}
