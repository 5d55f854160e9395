namespace GenAI.Core.Models.Gpt2;

/// <summary>The GPT-2 architecture (<c>model_type: gpt2</c>).</summary>
public sealed class Gpt2Architecture : IModelArchitecture
{
    /// <summary>The <c>model_type</c> value.</summary>
    public const string ModelTypeName = "gpt2";

    /// <summary>Activations GPT-2 checkpoints use, as Hugging Face names them.</summary>
    public static readonly IReadOnlySet<string> Activations = new HashSet<string> { "gelu_new", "gelu_pytorch_tanh", "gelu", "relu" };

    /// <summary>The one instance.</summary>
    public static Gpt2Architecture Instance { get; } = new();

    /// <inheritdoc />
    public string ModelType => ModelTypeName;

    /// <inheritdoc />
    public ModelConfig ParseConfig(ConfigReader c)
    {
        var config = new Gpt2Config
        {
            VocabSize = c.Int("vocab_size", 50257),
            Positions = c.Int("n_positions", 1024),
            Embedding = c.Int("n_embd", 768),
            Layers = c.Int("n_layer", 12),
            Heads = c.Int("n_head", 12),
            Inner = c.OptionalInt("n_inner"),
            Activation = c.String("activation_function") ?? "gelu_new",
            LayerNormEpsilon = c.Double("layer_norm_epsilon", 1e-5, min: 0, max: 1),
            ResidualDropout = c.Double("resid_pdrop", 0.1, 0, 1),
            EmbeddingDropout = c.Double("embd_pdrop", 0.1, 0, 1),
            AttentionDropout = c.Double("attn_pdrop", 0.1, 0, 1),
            ScaleAttentionWeights = c.Bool("scale_attn_weights", true),
            ScaleAttentionByInverseLayerIndex = c.Bool("scale_attn_by_inverse_layer_idx", false),
            TieWordEmbeddings = c.Bool("tie_word_embeddings", true),
            EosTokenIds = c.TokenIds("eos_token_id"),
            BosTokenId = c.OptionalTokenId("bos_token_id"),
        };
        if (config.Embedding % config.Heads != 0)
        {
            throw c.Invalid("n_head", $"a divisor of n_embd ({config.Embedding})");
        }
        if (!Activations.Contains(config.Activation))
        {
            throw c.Invalid("activation_function", $"one of {string.Join(", ", Activations)}");
        }
        if (config.EosTokenIds.Any(id => id >= config.VocabSize)) throw c.Invalid("eos_token_id", $"below vocab_size ({config.VocabSize})");
        if (config.BosTokenId >= config.VocabSize) throw c.Invalid("bos_token_id", $"below vocab_size ({config.VocabSize})");
        return config;
    }

    /// <inheritdoc />
    public CausalLanguageModel Create(ModelConfig config) => new Gpt2Model((Gpt2Config)config);
}
