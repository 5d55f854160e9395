namespace GenAI.Training;

/// <summary>How one training run is driven from outside: checkpoints and resume, progress, cancellation.</summary>
public sealed class TrainingRun
{
    /// <summary>
    /// Where checkpoints go (see <see cref="TrainingCheckpoint"/>). When it already holds one, the run resumes from it
    /// and ends at the same max_iters; null: no checkpoints.
    /// </summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>Iterations between checkpoints; 0: one at each evaluation. The end of the run is always checkpointed.</summary>
    public int CheckpointInterval { get; init; }

    /// <summary>
    /// Asked before each checkpoint is written; false skips it. A job worker that may have lost its job to another
    /// worker must not write into the checkpoint folder the new owner now uses.
    /// </summary>
    public Func<bool>? MayWriteCheckpoint { get; init; }

    /// <summary>Receives every iteration and evaluation; null: <see cref="TrainingProgressWriter"/> lines into the log.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Checked before every iteration; on cancellation the run saves a checkpoint, then throws <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken Cancellation { get; init; }
}

/// <summary>
/// Where a run stands: <paramref name="Step"/> iterations of <paramref name="MaxSteps"/> done, the training loss of the
/// last one (NaN before the first), the learning rate it used, throughput and the time left at that pace. <paramref name="Evaluation"/> is set
/// on the report made right after an evaluation (at step 0, every eval_interval and at the end).
/// </summary>
public sealed record TrainingProgress(int Step, int MaxSteps, double Loss, double LearningRate, double TokensPerSecond, TimeSpan Eta, EvaluationPoint? Evaluation);
