namespace GenAI.Training.Jobs;

/// <summary>
/// A job's hyperparameters with every "auto" resolved against its data and model, and the training settings they give.
/// </summary>
/// <param name="NEpochs">Passes over the training tokens.</param>
/// <param name="BatchSize">Sequences per step.</param>
/// <param name="LearningRateMultiplier">Scales <see cref="BaseLearningRate"/>.</param>
/// <param name="Steps">Optimizer steps: epochs × training tokens ÷ (batch × block), capped by max_steps.</param>
/// <param name="BlockSize">Tokens per sequence.</param>
/// <param name="LearningRate">Peak learning rate.</param>
/// <param name="WarmupSteps">Linear warm-up steps.</param>
/// <param name="EvalInterval">Steps between evaluations.</param>
/// <param name="EvalIters">Batches per evaluation and split.</param>
/// <param name="CheckpointInterval">Steps between resumable checkpoints.</param>
/// <param name="MetricsInterval">Steps between metrics events.</param>
public sealed record FineTuningPlan(int NEpochs, int BatchSize, double LearningRateMultiplier, int Steps, int BlockSize, double LearningRate,
    int WarmupSteps, int EvalInterval, int EvalIters, int CheckpointInterval, int MetricsInterval)
{
    /// <summary>
    /// The learning rate at multiplier 1. Fine-tuning wants far less than pre-training (nanoGPT's GPT-2 runs peak at
    /// 6e-4); Hugging Face's Trainer defaults to 5e-5 for long runs, and our jobs are short (tens to hundreds of
    /// steps), so twice that reaches a useful loss within them without destroying what the model knew.
    /// </summary>
    public const double BaseLearningRate = 1e-4;

    /// <summary>Longest training sequence: longer costs quadratic attention time on a CPU for little gain in a fine-tune.</summary>
    public const int MaxBlockSize = 256;

    /// <summary>Shortest sequence worth training on.</summary>
    public const int MinBlockSize = 8;

    /// <summary>Epochs when "auto" (OpenAI's usual choice for small data sets).</summary>
    public const int AutoEpochs = 3;

    /// <summary>Largest "auto" batch: more sequences per step only slow a CPU step down.</summary>
    public const int MaxAutoBatchSize = 8;

    /// <summary>Checks the requested values; throws <see cref="ArgumentException"/> whose ParamName is the API field.</summary>
    public static void Validate(JobHyperparameters requested)
    {
        if (requested.NEpochs is < 1 or > 50) throw new ArgumentException($"n_epochs must be between 1 and 50, not {requested.NEpochs}", "hyperparameters.n_epochs");
        if (requested.BatchSize is < 1 or > 256) throw new ArgumentException($"batch_size must be between 1 and 256, not {requested.BatchSize}", "hyperparameters.batch_size");
        if (requested.LearningRateMultiplier is { } m && (!double.IsFinite(m) || m <= 0 || m > 100))
        {
            throw new ArgumentException($"learning_rate_multiplier must be above 0 and at most 100, not {m}", "hyperparameters.learning_rate_multiplier");
        }
        if (requested.MaxSteps is < 1 or > 1_000_000) throw new ArgumentException($"max_steps must be between 1 and 1000000, not {requested.MaxSteps}", "max_steps");
    }

    /// <summary>
    /// Resolves <paramref name="requested"/> for a data set of <paramref name="trainTokens"/> and
    /// <paramref name="validationTokens"/> on a model of <paramref name="contextLength"/> positions; throws
    /// <see cref="InvalidDataException"/> when the data is too short to train on.
    /// </summary>
    public static FineTuningPlan Resolve(JobHyperparameters requested, long trainTokens, long validationTokens, int contextLength)
    {
        Validate(requested);
        // A batch window needs block + 2 tokens in its split (TokenDataset.Batch).
        long shortest = Math.Min(trainTokens, validationTokens);
        int block = (int)Math.Min(Math.Min(MaxBlockSize, contextLength), shortest - 2);
        if (block < MinBlockSize)
        {
            throw new InvalidDataException($"the data has {trainTokens} training and {validationTokens} validation tokens; each needs at least {MinBlockSize + 2}");
        }
        long windows = Math.Max(1, trainTokens / block);
        int batch = requested.BatchSize ?? (int)Math.Clamp(windows / 10, 1, MaxAutoBatchSize);
        int epochs = requested.NEpochs ?? AutoEpochs;
        double multiplier = requested.LearningRateMultiplier ?? 1.0;
        long steps = Math.Max(1, (long)Math.Ceiling((double)epochs * trainTokens / ((long)batch * block)));
        if (requested.MaxSteps is { } max) steps = Math.Min(steps, max);
        int n = (int)Math.Min(steps, 1_000_000);
        return new FineTuningPlan(epochs, batch, multiplier, n, block, BaseLearningRate * multiplier,
            WarmupSteps: Math.Min(100, n / 10),
            EvalInterval: Math.Max(1, n / 5),
            // Six evaluations of 2 × eval_iters batches cost at most ~40% of training's 3 × steps passes (forward and backward).
            EvalIters: Math.Clamp(n / 10, 2, 20),
            CheckpointInterval: Math.Clamp(n / 10, 10, 250),
            MetricsInterval: Math.Max(1, n / 50));
    }

    /// <summary>The trainer's settings: cosine decay to a tenth of the peak (nanoGPT's rule) over the whole run.</summary>
    public TrainingOptions ToTrainingOptions(int seed) => new()
    {
        BlockSize = BlockSize,
        BatchSize = BatchSize,
        MaxIters = Steps,
        LearningRate = LearningRate,
        MinLr = LearningRate / 10,
        WarmupIters = WarmupSteps,
        LrDecayIters = Steps,
        EvalInterval = EvalInterval,
        EvalIters = EvalIters,
        Seed = seed,
    };
}
