using System.Data.Common;
using System.Text.Json;

namespace GenAI.Training.Jobs;

/// <summary>
/// Rows to records and records to column values, shared by both stores: the schemas have the same columns (integers
/// may come back as int, long or bool, text as string; structured columns are JSON text).
/// </summary>
internal static class JobRows
{
    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, StoreJson.Options);

    public static StoredFile ReadFile(DbDataReader r) =>
        new(Text(r, "id")!, Text(r, "filename")!, Text(r, "purpose")!, Integer(r, "bytes")!.Value, Integer(r, "created_at")!.Value, Text(r, "path")!);

    public static JobRecord ReadJob(DbDataReader r) => new()
    {
        Id = Text(r, "id")!,
        Sequence = Integer(r, "seq")!.Value,
        CreatedAt = Integer(r, "created_at")!.Value,
        Model = Text(r, "model")!,
        ModelFolder = Text(r, "model_folder")!,
        TrainingFile = Text(r, "training_file")!,
        ValidationFile = Text(r, "validation_file"),
        Hyperparameters = FromJson<JobHyperparameters>(r, "hyperparameters") ?? new(),
        Plan = FromJson<FineTuningPlan>(r, "plan"),
        Suffix = Text(r, "suffix"),
        Seed = (int)Integer(r, "seed")!.Value,
        Status = Text(r, "status")!,
        FineTunedModel = Text(r, "fine_tuned_model"),
        FinishedAt = Integer(r, "finished_at"),
        Error = FromJson<JobError>(r, "error"),
        TrainedTokens = Integer(r, "trained_tokens"),
        LeaseOwner = Text(r, "lease_owner"),
        LeaseExpiresAt = Integer(r, "lease_expires"),
        CancelRequested = Integer(r, "cancel_requested") == 1,
        Metadata = FromJson<Dictionary<string, string>>(r, "metadata"),
    };

    public static StoredResponse ReadResponse(DbDataReader r) =>
        new((string)r["id"], (long)r["created_at"], (string)r["model"], r["previous_response_id"] as string, (string)r["status"],
            (string)r["input_items"], (string)r["response"]);

    public static JobEvent ReadEvent(DbDataReader r) =>
        new(Text(r, "id")!, Integer(r, "seq")!.Value, Text(r, "job_id")!, Integer(r, "created_at")!.Value, Text(r, "level")!,
            Text(r, "message")!, Text(r, "type")!, Text(r, "data"));

    private static T? FromJson<T>(DbDataReader r, string column) where T : class =>
        r[column] is string json ? JsonSerializer.Deserialize<T>(json, StoreJson.Options) : null;

    private static string? Text(DbDataReader r, string column) => r[column] as string;

    private static long? Integer(DbDataReader r, string column) => r[column] switch
    {
        DBNull or null => null,
        bool b => b ? 1 : 0,
        var v => Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture),
    };
}
