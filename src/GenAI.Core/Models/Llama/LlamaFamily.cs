using GenAI.Core.Models.Layers;

namespace GenAI.Core.Models.Llama;

/// <summary>
/// The Llama-family decoders, one <see cref="IModelArchitecture"/> per <c>model_type</c>: Llama (2, 3.x, SmolLM2,
/// TinyLlama), Mistral, Qwen2/Qwen2.5, Qwen3 and Phi-3/Phi-4-mini all run on <see cref="LlamaModel"/>; what differs is
/// read from config.json here, by the rules (and defaults) of each family's transformers config class.
/// </summary>
public sealed class LlamaFamily : IModelArchitecture
{
    /// <summary>Activations the gated MLP supports, as Hugging Face names them.</summary>
    public static readonly IReadOnlySet<string> Activations = new HashSet<string> { "silu", "swish", "gelu", "gelu_new", "gelu_pytorch_tanh", "relu" };

    private enum Window { None, All, QwenLayers }

    private readonly string _architectureName;
    private readonly Defaults _defaults;
    private readonly bool _attentionBiasField;
    private readonly bool _qwen2Biases;
    private readonly bool _mlpBiasField;
    private readonly bool _queryKeyNorm;
    private readonly bool _fused;
    private readonly Window _window;

    private sealed record Defaults(int Vocab, int Hidden, int Intermediate, int Layers, int Heads, int? KvHeads, int? HeadDim,
        int MaxPositions, double Epsilon, int? SlidingWindow = null, int? OriginalMaxPositions = null);

    private LlamaFamily(string modelType, string architectureName, Defaults defaults, bool attentionBiasField = false,
        bool qwen2Biases = false, bool mlpBiasField = false, bool queryKeyNorm = false, bool fused = false, Window window = Window.None)
    {
        ModelType = modelType;
        _architectureName = architectureName;
        _defaults = defaults;
        _attentionBiasField = attentionBiasField;
        _qwen2Biases = qwen2Biases;
        _mlpBiasField = mlpBiasField;
        _queryKeyNorm = queryKeyNorm;
        _fused = fused;
        _window = window;
    }

    /// <summary>Llama 2 / 3.x, SmolLM2, TinyLlama (<c>llama</c>): optional <c>attention_bias</c> and <c>mlp_bias</c>.</summary>
    public static LlamaFamily Llama { get; } = new("llama", "LlamaForCausalLM",
        new(32000, 4096, 11008, 32, 32, null, null, 2048, 1e-6), attentionBiasField: true, mlpBiasField: true);

    /// <summary>Mistral (<c>mistral</c>): a sliding window on every layer.</summary>
    public static LlamaFamily Mistral { get; } = new("mistral", "MistralForCausalLM",
        new(32000, 4096, 14336, 32, 32, 8, null, 4096 * 32, 1e-6, SlidingWindow: 4096), window: Window.All);

    /// <summary>Qwen2 / Qwen2.5 (<c>qwen2</c>): biases on q, k and v; Qwen's sliding-window layers.</summary>
    public static LlamaFamily Qwen2 { get; } = new("qwen2", "Qwen2ForCausalLM",
        new(151936, 4096, 22016, 32, 32, null, null, 32768, 1e-6, SlidingWindow: 4096), qwen2Biases: true, window: Window.QwenLayers);

    /// <summary>Qwen3 (<c>qwen3</c>): per-head q/k RMSNorm, a <c>head_dim</c> of its own, optional <c>attention_bias</c>.</summary>
    public static LlamaFamily Qwen3 { get; } = new("qwen3", "Qwen3ForCausalLM",
        new(151936, 4096, 22016, 32, 32, null, 128, 32768, 1e-6, SlidingWindow: 4096), attentionBiasField: true, queryKeyNorm: true, window: Window.QwenLayers);

    /// <summary>Phi-3 / Phi-3.5 / Phi-4-mini (<c>phi3</c>): fused projections, partial rotary, LongRoPE.</summary>
    public static LlamaFamily Phi3 { get; } = new("phi3", "Phi3ForCausalLM",
        new(32064, 3072, 8192, 32, 32, null, null, 4096, 1e-5, OriginalMaxPositions: 4096), fused: true, window: Window.All);

    /// <summary>Every family.</summary>
    public static IReadOnlyList<LlamaFamily> All { get; } = [Llama, Mistral, Qwen2, Qwen3, Phi3];

    /// <inheritdoc />
    public string ModelType { get; }

    /// <inheritdoc />
    public ModelConfig ParseConfig(ConfigReader c)
    {
        if (c.Has("quantization_config"))
        {
            throw c.Unsupported("quantization_config", "quantized checkpoints are not supported; use F32, F16 or BF16 weights");
        }
        var d = _defaults;
        int vocab = c.Int("vocab_size", d.Vocab);
        int hidden = c.Int("hidden_size", d.Hidden);
        int heads = c.Int("num_attention_heads", d.Heads);
        int kvHeads = c.Int("num_key_value_heads", d.KvHeads ?? heads, max: heads);
        if (heads % kvHeads != 0) throw c.Invalid("num_key_value_heads", $"a divisor of num_attention_heads ({heads})");
        int? headDim = c.OptionalInt("head_dim") ?? d.HeadDim;
        if (headDim is null && hidden % heads != 0) throw c.Invalid("num_attention_heads", $"a divisor of hidden_size ({hidden}) when there is no head_dim");
        int layers = c.Int("num_hidden_layers", d.Layers);
        int maxPositions = c.Int("max_position_embeddings", d.MaxPositions);
        string activation = c.String("hidden_act") ?? "silu";
        if (!Activations.Contains(activation)) throw c.Invalid("hidden_act", $"one of {string.Join(", ", Activations)}");
        bool attentionBias = _attentionBiasField && c.Bool("attention_bias", false);
        var eos = c.TokenIds("eos_token_id");
        var config = new LlamaConfig(ModelType, _architectureName, c.ToJsonObject())
        {
            VocabSize = vocab,
            Hidden = hidden,
            IntermediateSize = c.Int("intermediate_size", d.Intermediate),
            Layers = layers,
            Heads = heads,
            KvHeads = kvHeads,
            HeadDim = headDim ?? hidden / heads,
            MaxPositionEmbeddings = maxPositions,
            RmsNormEpsilon = c.Double("rms_norm_eps", d.Epsilon, min: 0, max: 1),
            Rope = RopeParameters.Read(c, headDim ?? hidden / heads, maxPositions, d.OriginalMaxPositions),
            Activation = activation,
            QkvBias = attentionBias || _qwen2Biases,
            OutputBias = attentionBias,
            MlpBias = _mlpBiasField && c.Bool("mlp_bias", false),
            QueryKeyNorm = _queryKeyNorm,
            FusedProjections = _fused,
            SlidingWindows = SlidingWindows(c, layers),
            TieWordEmbeddings = c.Bool("tie_word_embeddings", false),
            AttentionDropout = c.Double("attention_dropout", 0, 0, 1),
            ResidualDropout = c.Double("resid_pdrop", 0, 0, 1),
            EmbeddingDropout = c.Double("embd_pdrop", 0, 0, 1),
            InitializerRange = c.Double("initializer_range", 0.02, 0, 1),
            EosTokenIds = eos,
            BosTokenId = c.OptionalTokenId("bos_token_id"),
        };
        if (eos.Any(id => id >= vocab)) throw c.Invalid("eos_token_id", $"below vocab_size ({vocab})");
        if (config.BosTokenId >= vocab) throw c.Invalid("bos_token_id", $"below vocab_size ({vocab})");
        return config;
    }

    /// <inheritdoc />
    public CausalLanguageModel Create(ModelConfig config) => new LlamaModel((LlamaConfig)config);

    private int?[] SlidingWindows(ConfigReader c, int layers)
    {
        if (_window == Window.None) return new int?[layers];
        // An explicit null means no window; a config without the field takes the family's default.
        int? window = c.Contains("sliding_window") ? c.OptionalInt("sliding_window") : _defaults.SlidingWindow;
        if (_window == Window.QwenLayers && !c.Bool("use_sliding_window", false)) window = null;
        if (window is null) return new int?[layers];

        string[]? types = c.Strings("layer_types");
        if (types is not null)
        {
            if (types.Length != layers) throw c.Invalid("layer_types", $"a list of {layers} entries (num_hidden_layers)");
            return types.Select((type, i) => type switch
            {
                "full_attention" => (int?)null,
                "sliding_attention" => window,
                _ => throw c.Invalid("layer_types", $"'full_attention' or 'sliding_attention' entries (entry {i} is '{type}')"),
            }).ToArray();
        }
        if (_window == Window.All) return Enumerable.Repeat(window, layers).ToArray();
        // Qwen: the layers from max_window_layers on use the window.
        int first = c.Int("max_window_layers", 28, min: 0);
        return Enumerable.Range(0, layers).Select(i => i >= first ? window : null).ToArray();
    }
}
