using System.Text.Json.Nodes;
using GenAI.Core.Models.Layers;

namespace GenAI.Core.Models.Llama;

/// <summary>
/// The config of a Llama-family decoder (Llama, Mistral, Qwen2, Qwen3, Phi-3): everything that shapes the computation,
/// resolved from the family's <c>config.json</c> by <see cref="LlamaFamily"/>. The families differ only in these values.
/// </summary>
public sealed class LlamaConfig : ModelConfig
{
    private readonly JsonObject _source;

    /// <summary>Creates the config; <paramref name="source"/> is the config.json it was read from, written back on save.</summary>
    public LlamaConfig(string modelType, string architectureName, JsonObject source)
    {
        ModelType = modelType;
        ArchitectureName = architectureName;
        _source = source;
    }

    /// <inheritdoc />
    public override string ModelType { get; }

    /// <inheritdoc />
    public override string ArchitectureName { get; }

    /// <summary><c>hidden_size</c>.</summary>
    public required int Hidden { get; init; }

    /// <summary><c>intermediate_size</c>: the gated MLP's width.</summary>
    public required int IntermediateSize { get; init; }

    /// <summary><c>num_hidden_layers</c>.</summary>
    public required int Layers { get; init; }

    /// <summary><c>num_attention_heads</c>.</summary>
    public required int Heads { get; init; }

    /// <summary><c>num_key_value_heads</c>: heads of keys and values, each shared by Heads / KvHeads query heads.</summary>
    public required int KvHeads { get; init; }

    /// <summary><c>head_dim</c> (hidden / heads when the config has none; Qwen3's is wider).</summary>
    public required int HeadDim { get; init; }

    /// <summary><c>max_position_embeddings</c>.</summary>
    public required int MaxPositionEmbeddings { get; init; }

    /// <summary><c>rms_norm_eps</c>.</summary>
    public required double RmsNormEpsilon { get; init; }

    /// <summary>The rotary embedding.</summary>
    public required RopeParameters Rope { get; init; }

    /// <summary><c>hidden_act</c> of the gated MLP.</summary>
    public string Activation { get; init; } = "silu";

    /// <summary>Biases on the query, key and value projections.</summary>
    public bool QkvBias { get; init; }

    /// <summary>A bias on the output projection.</summary>
    public bool OutputBias { get; init; }

    /// <summary>Biases on the MLP projections (<c>mlp_bias</c>).</summary>
    public bool MlpBias { get; init; }

    /// <summary>Qwen3's per-head RMSNorm of queries and keys before the rotary embedding.</summary>
    public bool QueryKeyNorm { get; init; }

    /// <summary>Phi-3's layout: fused <c>qkv_proj</c> and <c>gate_up_proj</c>.</summary>
    public bool FusedProjections { get; init; }

    /// <summary>Each layer's sliding attention window (keys within the last <c>window</c> positions), or null for full attention.</summary>
    public required IReadOnlyList<int?> SlidingWindows { get; init; }

    /// <summary><c>tie_word_embeddings</c>: the LM head is the token embedding.</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary><c>attention_dropout</c> (training only).</summary>
    public double AttentionDropout { get; init; }

    /// <summary>Dropout on the residual branches (Phi-3's <c>resid_pdrop</c>; training only).</summary>
    public double ResidualDropout { get; init; }

    /// <summary>Dropout on the embeddings (Phi-3's <c>embd_pdrop</c>; training only).</summary>
    public double EmbeddingDropout { get; init; }

    /// <summary><c>initializer_range</c>: the standard deviation of weights initialized for training.</summary>
    public double InitializerRange { get; init; } = 0.02;

    /// <inheritdoc />
    public override int ContextLength => MaxPositionEmbeddings;

    /// <inheritdoc />
    public override int LayerCount => Layers;

    /// <inheritdoc />
    public override int HiddenSize => Hidden;

    /// <inheritdoc />
    public override JsonObject ToJson() => _source.DeepClone().AsObject();
}
