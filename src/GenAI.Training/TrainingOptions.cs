namespace GenAI.Training;

/// <summary>
/// Training settings, named as nanoGPT names them (<c>--n_layer 4</c>, <c>--learning_rate 1e-3</c>, ...); the defaults are
/// nanoGPT's CPU "baby" Shakespeare run.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary><c>--n_layer</c>.</summary>
    public int NLayer { get; init; } = 4;
    /// <summary><c>--n_head</c>.</summary>
    public int NHead { get; init; } = 4;
    /// <summary><c>--n_embd</c>.</summary>
    public int NEmbd { get; init; } = 128;
    /// <summary><c>--block_size</c>.</summary>
    public int BlockSize { get; init; } = 64;
    /// <summary><c>--batch_size</c>.</summary>
    public int BatchSize { get; init; } = 12;
    /// <summary><c>--gradient_accumulation_steps</c>.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary><c>--max_iters</c>.</summary>
    public int MaxIters { get; init; } = 2000;
    /// <summary><c>--learning_rate</c>.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary><c>--min_lr</c>.</summary>
    public double MinLr { get; init; } = 1e-4;
    /// <summary><c>--warmup_iters</c>.</summary>
    public int WarmupIters { get; init; } = 100;
    /// <summary><c>--lr_decay_iters</c>.</summary>
    public int LrDecayIters { get; init; } = 2000;
    /// <summary><c>--weight_decay</c>.</summary>
    public double WeightDecay { get; init; } = 0.1;
    /// <summary><c>--beta1</c>.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary><c>--beta2</c>.</summary>
    public double Beta2 { get; init; } = 0.99;
    /// <summary><c>--grad_clip</c>.</summary>
    public double GradClip { get; init; } = 1.0;
    /// <summary><c>--dropout</c>.</summary>
    public double Dropout { get; init; }
    /// <summary><c>--eval_interval</c>.</summary>
    public int EvalInterval { get; init; } = 250;
    /// <summary><c>--eval_iters</c>.</summary>
    public int EvalIters { get; init; } = 200;
    /// <summary><c>--seed</c>.</summary>
    public long Seed { get; init; } = 1337;

    /// <summary>Option names as the command line spells them, for help and errors.</summary>
    public static readonly string[] Names =
    [
        "n_layer", "n_head", "n_embd", "block_size", "batch_size", "gradient_accumulation_steps", "max_iters", "learning_rate",
        "min_lr", "warmup_iters", "lr_decay_iters", "weight_decay", "beta1", "beta2", "grad_clip", "dropout", "eval_interval",
        "eval_iters", "seed",
    ];

    /// <summary>Applies one <c>--name value</c> option; throws <see cref="ArgumentException"/> naming it when invalid.</summary>
    public TrainingOptions With(string name, string value)
    {
        int Int() => int.TryParse(value, out int v) && v >= 0 ? v : throw new ArgumentException($"--{name} must be a non-negative integer, not '{value}'");
        double Real() => double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) && v >= 0
            ? v : throw new ArgumentException($"--{name} must be a non-negative number, not '{value}'");
        return name switch
        {
            "n_layer" => this with { NLayer = Int() },
            "n_head" => this with { NHead = Int() },
            "n_embd" => this with { NEmbd = Int() },
            "block_size" => this with { BlockSize = Int() },
            "batch_size" => this with { BatchSize = Int() },
            "gradient_accumulation_steps" => this with { GradientAccumulationSteps = Int() },
            "max_iters" => this with { MaxIters = Int() },
            "learning_rate" => this with { LearningRate = Real() },
            "min_lr" => this with { MinLr = Real() },
            "warmup_iters" => this with { WarmupIters = Int() },
            "lr_decay_iters" => this with { LrDecayIters = Int() },
            "weight_decay" => this with { WeightDecay = Real() },
            "beta1" => this with { Beta1 = Real() },
            "beta2" => this with { Beta2 = Real() },
            "grad_clip" => this with { GradClip = Real() },
            "dropout" => this with { Dropout = Real() },
            "eval_interval" => this with { EvalInterval = Int() },
            "eval_iters" => this with { EvalIters = Int() },
            "seed" => this with { Seed = Int() },
            _ => throw new ArgumentException($"unknown option --{name} (known: {string.Join(", ", Names.Select(n => "--" + n))})"),
        };
    }

    /// <summary>Checks the combination; throws <see cref="ArgumentException"/> naming the option.</summary>
    public void Validate()
    {
        if (NLayer < 1) throw new ArgumentException("--n_layer must be at least 1");
        if (NHead < 1 || NEmbd % NHead != 0) throw new ArgumentException($"--n_head must divide --n_embd ({NEmbd})");
        if (BlockSize < 2) throw new ArgumentException("--block_size must be at least 2");
        if (BatchSize < 1) throw new ArgumentException("--batch_size must be at least 1");
        if (GradientAccumulationSteps < 1) throw new ArgumentException("--gradient_accumulation_steps must be at least 1");
        if (Dropout >= 1) throw new ArgumentException("--dropout must be below 1");
        if (Beta1 >= 1 || Beta2 >= 1) throw new ArgumentException("--beta1 and --beta2 must be below 1");
        if (EvalInterval < 1 || EvalIters < 1) throw new ArgumentException("--eval_interval and --eval_iters must be at least 1");
    }

    /// <summary>nanoGPT's schedule: linear warm-up, then cosine decay to min_lr at lr_decay_iters, then min_lr.</summary>
    public double LearningRateAt(int iteration)
    {
        if (iteration < WarmupIters) return LearningRate * (iteration + 1) / (WarmupIters + 1);
        if (iteration > LrDecayIters) return MinLr;
        double ratio = (double)(iteration - WarmupIters) / Math.Max(1, LrDecayIters - WarmupIters);
        double coefficient = 0.5 * (1.0 + Math.Cos(Math.PI * ratio));
        return MinLr + coefficient * (LearningRate - MinLr);
    }
}
