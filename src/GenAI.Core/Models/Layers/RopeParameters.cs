namespace GenAI.Core.Models.Layers;

/// <summary>The rotary-embedding variants of Hugging Face's <c>rope_type</c>.</summary>
public enum RopeKind
{
    /// <summary>Plain RoPE: θ^(-2i/d).</summary>
    Default,
    /// <summary>Position interpolation: every frequency divided by <c>factor</c>.</summary>
    Linear,
    /// <summary>Dynamic NTK: the base grows with the sequence once it passes <c>max_position_embeddings</c>.</summary>
    Dynamic,
    /// <summary>Llama 3.1's wavelength-banded scaling.</summary>
    Llama3,
    /// <summary>YaRN: NTK-by-parts interpolation with an attention temperature.</summary>
    Yarn,
    /// <summary>LongRoPE (Phi-3): per-frequency short or long factors with an attention scale.</summary>
    LongRope,
}

/// <summary>
/// A model's rotary position embedding as its <c>config.json</c> describes it (<c>rope_theta</c>,
/// <c>partial_rotary_factor</c> and <c>rope_scaling</c>, or transformers v5's <c>rope_parameters</c>), and the inverse
/// frequencies and attention scaling it implies — computed as transformers' <c>modeling_rope_utils</c> computes them,
/// in double precision.
/// </summary>
public sealed record RopeParameters
{
    /// <summary>The rope types GenAI runs, as config.json names them.</summary>
    public static readonly IReadOnlyList<string> SupportedTypes = ["default", "linear", "dynamic", "llama3", "yarn", "longrope"];

    /// <summary>The variant.</summary>
    public RopeKind Kind { get; init; }

    /// <summary><c>rope_theta</c>: the base of the frequencies.</summary>
    public double Theta { get; init; } = 10000;

    /// <summary>Dimensions of each head that rotate (head_dim × <c>partial_rotary_factor</c>, even); the rest pass through.</summary>
    public int RotaryDim { get; init; }

    /// <summary>The model's <c>max_position_embeddings</c>.</summary>
    public int MaxPositionEmbeddings { get; init; }

    /// <summary>The context the model was pretrained on, before scaling (<c>original_max_position_embeddings</c>).</summary>
    public int OriginalMaxPositionEmbeddings { get; init; }

    /// <summary>The scaling <c>factor</c> (1 for default RoPE).</summary>
    public double Factor { get; init; } = 1;

    /// <summary>Llama 3: <c>low_freq_factor</c>.</summary>
    public double LowFreqFactor { get; init; } = 1;

    /// <summary>Llama 3: <c>high_freq_factor</c>.</summary>
    public double HighFreqFactor { get; init; } = 4;

    /// <summary>YaRN: <c>beta_fast</c>.</summary>
    public double BetaFast { get; init; } = 32;

    /// <summary>YaRN: <c>beta_slow</c>.</summary>
    public double BetaSlow { get; init; } = 1;

    /// <summary>YaRN: <c>truncate</c> the correction range to whole dimensions.</summary>
    public bool Truncate { get; init; } = true;

    /// <summary>LongRoPE: <c>short_factor</c> (one per frequency).</summary>
    public double[] ShortFactor { get; init; } = [];

    /// <summary>LongRoPE: <c>long_factor</c> (one per frequency), used once a sequence passes the original context.</summary>
    public double[] LongFactor { get; init; } = [];

    /// <summary>The factor cos and sin are multiplied by (YaRN's and LongRoPE's attention scaling; 1 otherwise).</summary>
    public double AttentionScaling { get; init; } = 1;

    /// <summary>True when the frequencies depend on the sequence length (dynamic NTK, LongRoPE).</summary>
    public bool DependsOnLength => Kind is RopeKind.Dynamic or RopeKind.LongRope;

    /// <summary>Reads the rotary settings of a decoder config.</summary>
    /// <param name="config">The config.</param>
    /// <param name="headDim">Width of one attention head.</param>
    /// <param name="maxPositionEmbeddings">The model's <c>max_position_embeddings</c>.</param>
    /// <param name="defaultOriginalMaxPositions">
    /// The family's <c>original_max_position_embeddings</c> when the config has none (Phi-3's is 4096); null: the
    /// model's <c>max_position_embeddings</c>.
    /// </param>
    public static RopeParameters Read(ConfigReader config, int headDim, int maxPositionEmbeddings, int? defaultOriginalMaxPositions = null)
    {
        // transformers v5 keeps theta and the scaling in one rope_parameters object; v4 splits them.
        var rope = config.Section("rope_parameters");
        if (rope is not null && (rope.Has("full_attention") || rope.Has("sliding_attention")))
        {
            throw config.Unsupported("rope_parameters", "per-layer-type rotary parameters are not supported");
        }
        var scaling = rope ?? config.Section("rope_scaling");
        double theta = rope?.Has("rope_theta") == true ? rope.Double("rope_theta", 10000, min: 1) : config.Double("rope_theta", 10000, min: 1);
        double partial = scaling?.Has("partial_rotary_factor") == true
            ? scaling.Double("partial_rotary_factor", 1, 0, 1)
            : config.Double("partial_rotary_factor", 1, 0, 1);
        int rotaryDim = (int)(headDim * partial);
        if (rotaryDim < 2 || rotaryDim % 2 != 0) throw config.Invalid("partial_rotary_factor", $"a fraction of head_dim ({headDim}) giving an even number of dimensions");

        string type = scaling is null ? "default" : scaling.String("rope_type") ?? scaling.String("type") ?? "default";
        var kind = type switch
        {
            "default" => RopeKind.Default,
            "linear" => RopeKind.Linear,
            "dynamic" => RopeKind.Dynamic,
            "llama3" => RopeKind.Llama3,
            "yarn" => RopeKind.Yarn,
            "longrope" or "su" => RopeKind.LongRope, // "su" is LongRoPE's name in early Phi-3 configs
            _ => throw config.Unsupported(rope is null ? "rope_scaling" : "rope_parameters",
                $"rope type '{type}' is not supported (supported: {string.Join(", ", SupportedTypes)})"),
        };

        int original = scaling?.OptionalInt("original_max_position_embeddings")
                       ?? config.OptionalInt("original_max_position_embeddings")
                       ?? defaultOriginalMaxPositions
                       ?? maxPositionEmbeddings;
        var p = new RopeParameters
        {
            Kind = kind,
            Theta = theta,
            RotaryDim = rotaryDim,
            MaxPositionEmbeddings = maxPositionEmbeddings,
            OriginalMaxPositionEmbeddings = original,
        };
        return kind switch
        {
            RopeKind.Default => p,
            RopeKind.Linear or RopeKind.Dynamic => p with { Factor = Required(scaling!, "factor", 1) },
            RopeKind.Llama3 => ReadLlama3(p, scaling!),
            RopeKind.Yarn => ReadYarn(p, scaling!),
            _ => ReadLongRope(p, scaling!),
        };
    }

    private static RopeParameters ReadLlama3(RopeParameters p, ConfigReader s)
    {
        if (!s.Has("original_max_position_embeddings")) throw s.Invalid("original_max_position_embeddings", "the pretrained context length (llama3 rope)");
        var r = p with
        {
            Factor = Required(s, "factor", 1),
            LowFreqFactor = Required(s, "low_freq_factor", 0),
            HighFreqFactor = Required(s, "high_freq_factor", 0),
        };
        if (r.HighFreqFactor <= r.LowFreqFactor) throw s.Invalid("high_freq_factor", $"greater than low_freq_factor ({r.LowFreqFactor})");
        return r;
    }

    private static RopeParameters ReadYarn(RopeParameters p, ConfigReader s)
    {
        // The factor as given; only a config without one takes the ratio of the contexts (transformers' rule).
        double factor = s.Has("factor") ? s.Double("factor", 1, min: 1) : (double)p.MaxPositionEmbeddings / p.OriginalMaxPositionEmbeddings;
        double mscale = s.Double("mscale", 0), mscaleAllDim = s.Double("mscale_all_dim", 0);
        double attention = s.Has("attention_factor")
            ? s.Double("attention_factor", 1, min: 0)
            : mscale != 0 && mscaleAllDim != 0 ? YarnMscale(factor, mscale) / YarnMscale(factor, mscaleAllDim) : YarnMscale(factor, 1);
        double betaFast = s.Double("beta_fast", 0), betaSlow = s.Double("beta_slow", 0);
        return p with
        {
            Factor = factor,
            AttentionScaling = attention,
            BetaFast = betaFast == 0 ? 32 : betaFast, // transformers: `get("beta_fast") or 32`
            BetaSlow = betaSlow == 0 ? 1 : betaSlow,
            Truncate = s.Bool("truncate", true),
        };
    }

    private static RopeParameters ReadLongRope(RopeParameters p, ConfigReader s)
    {
        int half = p.RotaryDim / 2;
        double[] shortFactor = s.Doubles("short_factor") ?? throw s.Invalid("short_factor", $"a list of {half} numbers");
        double[] longFactor = s.Doubles("long_factor") ?? throw s.Invalid("long_factor", $"a list of {half} numbers");
        if (shortFactor.Length != half) throw s.Invalid("short_factor", $"a list of {half} numbers (rotary dimensions / 2)");
        if (longFactor.Length != half) throw s.Invalid("long_factor", $"a list of {half} numbers (rotary dimensions / 2)");
        double factor = s.Has("factor") ? s.Double("factor", 1, min: 0) : (double)p.MaxPositionEmbeddings / p.OriginalMaxPositionEmbeddings;
        double attention = s.Has("attention_factor")
            ? s.Double("attention_factor", 1, min: 0)
            : factor <= 1 ? 1 : Math.Sqrt(1 + Math.Log(factor) / Math.Log(p.OriginalMaxPositionEmbeddings));
        return p with { Factor = factor, ShortFactor = shortFactor, LongFactor = longFactor, AttentionScaling = attention };
    }

    private static double Required(ConfigReader s, string name, double min) =>
        s.Has(name) ? s.Double(name, 0, min: min) : throw s.Invalid(name, $"a number >= {min}");

    private static double YarnMscale(double scale, double mscale) => scale <= 1 ? 1 : 0.1 * mscale * Math.Log(scale) + 1;

    /// <summary>
    /// The inverse frequencies (<see cref="RotaryDim"/> / 2 of them) for a sequence whose longest position is
    /// <paramref name="sequenceLength"/> − 1 (used by the length-dependent kinds only).
    /// </summary>
    public double[] InverseFrequencies(int sequenceLength)
    {
        int dim = RotaryDim, half = dim / 2;
        double theta = Theta;
        if (Kind == RopeKind.Dynamic)
        {
            double length = Math.Max(sequenceLength, MaxPositionEmbeddings);
            theta *= Math.Pow(Factor * length / MaxPositionEmbeddings - (Factor - 1), dim / (dim - 2.0));
        }
        var inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = 1.0 / Math.Pow(theta, 2.0 * i / dim);

        switch (Kind)
        {
            case RopeKind.Linear:
                for (int i = 0; i < half; i++) inv[i] /= Factor;
                break;
            case RopeKind.Llama3:
                ScaleLlama3(inv);
                break;
            case RopeKind.Yarn:
                ScaleYarn(inv);
                break;
            case RopeKind.LongRope:
                var factors = sequenceLength > OriginalMaxPositionEmbeddings ? LongFactor : ShortFactor;
                for (int i = 0; i < half; i++) inv[i] /= factors[i];
                break;
        }
        return inv;
    }

    private void ScaleLlama3(double[] inv)
    {
        double lowWavelength = OriginalMaxPositionEmbeddings / LowFreqFactor;
        double highWavelength = OriginalMaxPositionEmbeddings / HighFreqFactor;
        for (int i = 0; i < inv.Length; i++)
        {
            double wavelength = 2 * Math.PI / inv[i];
            if (wavelength > lowWavelength)
            {
                inv[i] /= Factor;
            }
            else if (wavelength >= highWavelength)
            {
                double smooth = (OriginalMaxPositionEmbeddings / wavelength - LowFreqFactor) / (HighFreqFactor - LowFreqFactor);
                inv[i] = (1 - smooth) * inv[i] / Factor + smooth * inv[i];
            }
        }
    }

    private void ScaleYarn(double[] inv)
    {
        int dim = RotaryDim;
        double CorrectionDim(double rotations) =>
            dim * Math.Log(OriginalMaxPositionEmbeddings / (rotations * 2 * Math.PI)) / (2 * Math.Log(Theta));
        double low = CorrectionDim(BetaFast), high = CorrectionDim(BetaSlow);
        if (Truncate)
        {
            low = Math.Floor(low);
            high = Math.Ceiling(high);
        }
        low = Math.Max(low, 0);
        high = Math.Min(high, dim - 1);
        if (low == high) high += 0.001;
        for (int i = 0; i < inv.Length; i++)
        {
            double ramp = Math.Clamp((i - low) / (high - low), 0, 1);
            double extrapolation = 1 - ramp;
            inv[i] = inv[i] / Factor * (1 - extrapolation) + inv[i] * extrapolation;
        }
    }
}
