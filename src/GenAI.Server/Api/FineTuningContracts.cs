using System.Text.Json;
using System.Text.Json.Serialization;
using GenAI.Training.Jobs;

namespace GenAI.Server.Api;

/// <summary>OpenAI's file object.</summary>
public sealed record FileObject(
    string Id,
    long Bytes,
    long CreatedAt,
    string Filename,
    string Purpose,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? ExpiresAt = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? StatusDetails = null)
{
    public string Object => "file";

    /// <summary>Always <c>processed</c>: a file is validated before it is stored.</summary>
    public string Status => "processed";

    public static FileObject From(StoredFile f) => new(f.Id, f.Bytes, f.CreatedAt, f.Filename, f.Purpose);
}

/// <summary>GET /v1/files.</summary>
public sealed record FileList(List<FileObject> Data, bool HasMore, string? FirstId, string? LastId)
{
    public string Object => "list";
}

/// <summary>DELETE /v1/files/{id}.</summary>
public sealed record FileDeleted(string Id, bool Deleted)
{
    public string Object => "file";
}

/// <summary>Hyperparameters as requested: each a number or <c>"auto"</c> (the default).</summary>
public sealed class HyperparametersRequest
{
    /// <summary>Passes over the training data, 1..50, or "auto" (3).</summary>
    public JsonElement? NEpochs { get; set; }

    /// <summary>Sequences per step, 1..256, or "auto" (from the data size, at most 8).</summary>
    public JsonElement? BatchSize { get; set; }

    /// <summary>Scales the base learning rate 1e-4, (0, 100], or "auto" (1).</summary>
    public JsonElement? LearningRateMultiplier { get; set; }
}

/// <summary>POST /v1/fine_tuning/jobs: OpenAI's fields plus <c>max_steps</c>.</summary>
public sealed class CreateFineTuningJobRequest
{
    /// <summary>A model the server serves (GET /v1/models).</summary>
    /// <example>gpt2-tiny</example>
    public string? Model { get; set; }

    /// <summary>Id of an uploaded file with purpose fine-tune.</summary>
    /// <example>file-abc123</example>
    public string? TrainingFile { get; set; }

    /// <summary>Id of an uploaded file to measure validation loss on (default: the last 10% of the training data).</summary>
    public string? ValidationFile { get; set; }

    /// <summary>Training hyperparameters (deprecated by OpenAI in favour of method, and accepted as well).</summary>
    public HyperparametersRequest? Hyperparameters { get; set; }

    /// <summary><c>{"type": "supervised", "supervised": {"hyperparameters": {...}}}</c>; only supervised is supported.</summary>
    public JsonElement? Method { get; set; }

    /// <summary>Up to 40 characters of [A-Za-z0-9._-], part of the fine-tuned model's name.</summary>
    /// <example>shakespeare</example>
    public string? Suffix { get; set; }

    /// <summary>Training seed (default random), 0..2147483647.</summary>
    /// <example>42</example>
    public long? Seed { get; set; }

    /// <summary>Up to 16 key-value pairs kept with the job.</summary>
    public Dictionary<string, string>? Metadata { get; set; }

    /// <summary>Extension: the most optimizer steps (caps epochs × data ÷ batch).</summary>
    /// <example>20</example>
    public int? MaxSteps { get; set; }

    /// <summary>Extension: publish each checkpoint as a revision of fine_tuned_model while the job trains, so the model is served (and improves) before the job ends.</summary>
    public bool? PublishCheckpoints { get; set; }
}

/// <summary>OpenAI's fine-tuning job error.</summary>
public sealed record FineTuningJobError(string Code, string Message, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param);

/// <summary>OpenAI's fine-tuning job object (every field the OpenAI SDKs read), plus <c>max_steps</c>.</summary>
public sealed record FineTuningJobObject(
    string Id,
    long CreatedAt,
    string Model,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FineTunedModel,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? FinishedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] FineTuningJobError? Error,
    Dictionary<string, object> Hyperparameters,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? TrainedTokens,
    string TrainingFile,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? ValidationFile,
    int Seed,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? UserProvidedSuffix,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyDictionary<string, string>? Metadata,
    object Method,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? MaxSteps)
{
    public string Object => "fine_tuning.job";
    public string OrganizationId => "genai";
    public List<string> ResultFiles => [];
    public List<object> Integrations => [];

    /// <summary>Always null: the OpenAI .NET SDK sleeps until this time when polling, so a wrong guess would stall it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public long? EstimatedFinish => null;

    public static FineTuningJobObject From(JobRecord job)
    {
        // Resolved values once the worker has read the data, else what was asked ("auto" where nothing was).
        var plan = job.Plan;
        var h = job.Hyperparameters;
        var hyperparameters = new Dictionary<string, object>
        {
            ["n_epochs"] = (object?)plan?.NEpochs ?? h.NEpochs ?? (object)"auto",
            ["batch_size"] = (object?)plan?.BatchSize ?? h.BatchSize ?? (object)"auto",
            ["learning_rate_multiplier"] = (object?)plan?.LearningRateMultiplier ?? h.LearningRateMultiplier ?? (object)"auto",
        };
        var method = new { type = "supervised", supervised = new { hyperparameters } };
        return new FineTuningJobObject(job.Id, job.CreatedAt, job.Model, job.FineTunedModel, job.FinishedAt,
            job.Error is { } e ? new FineTuningJobError(e.Code, e.Message, e.Param) : null, hyperparameters, job.Status,
            job.TrainedTokens is { } t ? (int)Math.Min(t, int.MaxValue) : null, job.TrainingFile, job.ValidationFile, job.Seed, job.Suffix,
            job.Metadata, method, h.MaxSteps);
    }
}

/// <summary>GET /v1/fine_tuning/jobs.</summary>
public sealed record FineTuningJobList(List<FineTuningJobObject> Data, bool HasMore)
{
    public string Object => "list";
}

/// <summary>OpenAI's fine-tuning event: <c>type</c> is <c>message</c> or <c>metrics</c> (data: step, train_loss, valid_loss, learning_rate, ...).</summary>
public sealed record FineTuningEventObject(string Id, long CreatedAt, string Level, string Message, string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] JsonElement? Data)
{
    public string Object => "fine_tuning.job.event";

    public static FineTuningEventObject From(JobEvent e) => new(e.Id, e.CreatedAt, e.Level, e.Message, e.Type,
        e.Data is null ? null : JsonDocument.Parse(e.Data).RootElement.Clone());
}

/// <summary>GET /v1/fine_tuning/jobs/{id}/events.</summary>
public sealed record FineTuningEventList(List<FineTuningEventObject> Data, bool HasMore)
{
    public string Object => "list";
}
