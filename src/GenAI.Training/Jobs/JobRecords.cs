using System.Text.Json;
using System.Text.Json.Serialization;

namespace GenAI.Training.Jobs;

/// <summary>The states of a fine-tuning job, spelled as OpenAI spells them.</summary>
public static class JobStatus
{
    /// <summary>Created; its files are checked when a worker claims it.</summary>
    public const string ValidatingFiles = "validating_files";
    /// <summary>Waiting for a worker (also after a worker stopped gracefully).</summary>
    public const string Queued = "queued";
    /// <summary>A worker is training it.</summary>
    public const string Running = "running";
    /// <summary>Finished; <see cref="JobRecord.FineTunedModel"/> is published.</summary>
    public const string Succeeded = "succeeded";
    /// <summary>Stopped by an error; <see cref="JobRecord.Error"/> says why.</summary>
    public const string Failed = "failed";
    /// <summary>Stopped on request.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>True for succeeded, failed and cancelled: nothing changes a job after these.</summary>
    public static bool IsTerminal(string status) => status is Succeeded or Failed or Cancelled;
}

/// <summary>An uploaded file: its content lies at <see cref="Path"/> under the data root.</summary>
/// <param name="Id"><c>file-</c> and 24 letters and digits.</param>
/// <param name="Filename">The name the client gave.</param>
/// <param name="Purpose">Always <c>fine-tune</c> for now.</param>
/// <param name="Bytes">Content length.</param>
/// <param name="CreatedAt">Unix seconds.</param>
/// <param name="Path">Relative to the data root.</param>
public sealed record StoredFile(string Id, string Filename, string Purpose, long Bytes, long CreatedAt, string Path);

/// <summary>What a job asked for; a null value means "auto" (resolved by the worker when it knows the data).</summary>
public sealed record JobHyperparameters
{
    /// <summary>Passes over the training tokens.</summary>
    public int? NEpochs { get; init; }
    /// <summary>Sequences per step.</summary>
    public int? BatchSize { get; init; }
    /// <summary>Scales the base learning rate (<see cref="FineTuningPlan.BaseLearningRate"/>).</summary>
    public double? LearningRateMultiplier { get; init; }
    /// <summary>Extension: the most optimizer steps the job may take.</summary>
    public int? MaxSteps { get; init; }
    /// <summary>Extension: publish each checkpoint as a revision of the fine-tuned model while the job trains.</summary>
    public bool? PublishCheckpoints { get; init; }
}

/// <summary>Why a job failed, as OpenAI's job <c>error</c> object.</summary>
public sealed record JobError(string Code, string Message, string? Param);

/// <summary>One fine-tuning job as the store holds it.</summary>
public sealed record JobRecord
{
    /// <summary><c>ftjob-</c> and 24 letters and digits.</summary>
    public required string Id { get; init; }
    /// <summary>Insertion order (newest has the largest); pagination cursors compare it.</summary>
    public long Sequence { get; init; }
    /// <summary>Unix seconds.</summary>
    public required long CreatedAt { get; init; }
    /// <summary>The base model's served name.</summary>
    public required string Model { get; init; }
    /// <summary>The folder the base model was served from: the worker trains exactly these weights.</summary>
    public required string ModelFolder { get; init; }
    /// <summary>Training file id.</summary>
    public required string TrainingFile { get; init; }
    /// <summary>Validation file id, when one was given.</summary>
    public string? ValidationFile { get; init; }
    /// <summary>As requested.</summary>
    public JobHyperparameters Hyperparameters { get; init; } = new();
    /// <summary>The values the worker chose (set once the data is read).</summary>
    public FineTuningPlan? Plan { get; init; }
    /// <summary>Part of the fine-tuned model's name.</summary>
    public string? Suffix { get; init; }
    /// <summary>Training seed.</summary>
    public required int Seed { get; init; }
    /// <summary>One of <see cref="JobStatus"/>.</summary>
    public required string Status { get; init; }
    /// <summary>The published model's name once the job succeeded.</summary>
    public string? FineTunedModel { get; init; }
    /// <summary>Unix seconds, once terminal.</summary>
    public long? FinishedAt { get; init; }
    /// <summary>Why it failed.</summary>
    public JobError? Error { get; init; }
    /// <summary>Tokens trained on (steps × batch × block), once known.</summary>
    public long? TrainedTokens { get; init; }
    /// <summary>The worker holding the lease, if any.</summary>
    public string? LeaseOwner { get; init; }
    /// <summary>When the lease runs out (Unix milliseconds).</summary>
    public long? LeaseExpiresAt { get; init; }
    /// <summary>A cancel was asked for while a worker held the job.</summary>
    public bool CancelRequested { get; init; }
    /// <summary>The client's key-value pairs.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}

/// <summary>One line of a job's history.</summary>
/// <param name="Id"><c>ftevent-</c> and 24 letters and digits.</param>
/// <param name="Sequence">Order within the store.</param>
/// <param name="JobId">The job.</param>
/// <param name="CreatedAt">Unix seconds.</param>
/// <param name="Level"><c>info</c>, <c>warn</c> or <c>error</c>.</param>
/// <param name="Message">Human-readable.</param>
/// <param name="Type"><c>message</c> or <c>metrics</c>.</param>
/// <param name="Data">A JSON object (metrics: step, train_loss, ...), or null.</param>
public sealed record JobEvent(string Id, long Sequence, string JobId, long CreatedAt, string Level, string Message, string Type, string? Data);

/// <summary>JSON as the store writes its structured columns (snake_case, as the API shows them).</summary>
internal static class StoreJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
