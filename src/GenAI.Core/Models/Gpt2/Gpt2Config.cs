using System.Text.Json.Nodes;

namespace GenAI.Core.Models.Gpt2;

/// <summary>Hugging Face's <c>GPT2Config</c> fields that shape the computation (defaults as Hugging Face's).</summary>
public sealed class Gpt2Config : ModelConfig
{
    /// <inheritdoc />
    public override string ModelType => Gpt2Architecture.ModelTypeName;

    /// <summary><c>n_positions</c>: learned position embeddings.</summary>
    public int Positions { get; init; } = 1024;

    /// <summary><c>n_embd</c>.</summary>
    public int Embedding { get; init; } = 768;

    /// <summary><c>n_layer</c>.</summary>
    public int Layers { get; init; } = 12;

    /// <summary><c>n_head</c>.</summary>
    public int Heads { get; init; } = 12;

    /// <summary><c>n_inner</c>: MLP width (4 × n_embd when unset).</summary>
    public int? Inner { get; init; }

    /// <summary><c>activation_function</c>.</summary>
    public string Activation { get; init; } = "gelu_new";

    /// <summary><c>layer_norm_epsilon</c>.</summary>
    public double LayerNormEpsilon { get; init; } = 1e-5;

    /// <summary><c>resid_pdrop</c>.</summary>
    public double ResidualDropout { get; init; } = 0.1;

    /// <summary><c>embd_pdrop</c>.</summary>
    public double EmbeddingDropout { get; init; } = 0.1;

    /// <summary><c>attn_pdrop</c>.</summary>
    public double AttentionDropout { get; init; } = 0.1;

    /// <summary><c>scale_attn_weights</c>: divide attention scores by sqrt(head_dim).</summary>
    public bool ScaleAttentionWeights { get; init; } = true;

    /// <summary><c>scale_attn_by_inverse_layer_idx</c>: also divide by (layer index + 1).</summary>
    public bool ScaleAttentionByInverseLayerIndex { get; init; }

    /// <summary><c>tie_word_embeddings</c>: the LM head is <c>wte</c>.</summary>
    public bool TieWordEmbeddings { get; init; } = true;

    /// <summary>MLP width.</summary>
    public int InnerSize => Inner ?? 4 * Embedding;

    /// <summary>Width of one attention head.</summary>
    public int HeadDim => Embedding / Heads;

    /// <inheritdoc />
    public override int ContextLength => Positions;

    /// <inheritdoc />
    public override int LayerCount => Layers;

    /// <inheritdoc />
    public override int HiddenSize => Embedding;

    /// <inheritdoc />
    public override string ArchitectureName => "GPT2LMHeadModel";

    /// <inheritdoc />
    public override JsonObject ToJson() => new()
    {
        ["architectures"] = new JsonArray(ArchitectureName),
        ["model_type"] = ModelType,
        ["vocab_size"] = VocabSize,
        ["n_positions"] = Positions,
        ["n_ctx"] = Positions,
        ["n_embd"] = Embedding,
        ["n_layer"] = Layers,
        ["n_head"] = Heads,
        ["n_inner"] = Inner,
        ["activation_function"] = Activation,
        ["layer_norm_epsilon"] = LayerNormEpsilon,
        ["resid_pdrop"] = ResidualDropout,
        ["embd_pdrop"] = EmbeddingDropout,
        ["attn_pdrop"] = AttentionDropout,
        ["scale_attn_weights"] = ScaleAttentionWeights,
        ["scale_attn_by_inverse_layer_idx"] = ScaleAttentionByInverseLayerIndex,
        ["tie_word_embeddings"] = TieWordEmbeddings,
        ["initializer_range"] = 0.02,
        ["bos_token_id"] = BosTokenId,
        ["eos_token_id"] = EosTokenIds.Count switch
        {
            0 => null,
            1 => EosTokenIds[0],
            _ => new JsonArray(EosTokenIds.Select(id => (JsonNode?)id).ToArray()),
        },
    };
}
