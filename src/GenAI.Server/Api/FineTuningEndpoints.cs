using System.Text.Json;
using GenAI.Server.Hosting;
using GenAI.Training.Jobs;
using Microsoft.Extensions.Options;

namespace GenAI.Server.Api;

/// <summary>
/// OpenAI's fine-tuning jobs API: create, list, retrieve, cancel, and the job's events (also live as server-sent
/// events). The endpoints only record intent in the job store; a worker (in this process or another) does the work.
/// </summary>
public static class FineTuningEndpoints
{
    private const int MaxSuffixLength = 40;
    private static readonly TimeSpan EventPollInterval = TimeSpan.FromMilliseconds(500);

    public static RouteGroupBuilder MapFineTuning(this RouteGroupBuilder v1)
    {
        var jobs = v1.MapGroup("/fine_tuning/jobs").WithTags("Fine-tuning");
        jobs.MapPost("", Create)
            .WithName("CreateFineTuningJob")
            .WithSummary("Fine-tune a served model on an uploaded file")
            .WithDescription("Hyperparameters n_epochs, batch_size and learning_rate_multiplier are numbers or \"auto\" (resolved when the " +
                "worker reads the data, then shown in the job); the extension max_steps caps the steps, and publish_checkpoints publishes each checkpoint as a revision of fine_tuned_model while it trains. On success fine_tuned_model is served by this API.")
            .Accepts<CreateFineTuningJobRequest>("application/json")
            .Produces<FineTuningJobObject>()
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        jobs.MapGet("", (JobStores stores, string? after, int? limit) =>
            {
                var (list, more) = stores.Store.ListJobs(after, Limit(limit));
                return Results.Json(new FineTuningJobList(list.Select(FineTuningJobObject.From).ToList(), more), JsonBody.Options);
            })
            .WithName("ListFineTuningJobs").WithSummary("Fine-tuning jobs, newest first (after: a job id cursor; limit 1..100, default 20)")
            .Produces<FineTuningJobList>().Produces<ErrorResponse>(StatusCodes.Status400BadRequest);
        jobs.MapGet("/{id}", (string id, JobStores stores) => Results.Json(FineTuningJobObject.From(stores.FindJob(id)), JsonBody.Options))
            .WithName("RetrieveFineTuningJob").WithSummary("One fine-tuning job")
            .Produces<FineTuningJobObject>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        jobs.MapPost("/{id}/cancel", Cancel)
            .WithName("CancelFineTuningJob").WithSummary("Cancel a job: at once when queued, at the worker's next heartbeat when running")
            .Produces<FineTuningJobObject>().Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        jobs.MapGet("/{id}/events", Events)
            .WithName("ListFineTuningEvents")
            .WithSummary("A job's events, newest first; with stream=true, server-sent events oldest first until the job finishes")
            .WithDescription("Events of type \"metrics\" carry data {step, total_steps, train_loss, valid_loss (at evaluations), learning_rate}.")
            .Produces<FineTuningEventList>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        return v1;
    }

    private static async Task<IResult> Create(HttpContext http, JobStores stores, ModelHost host, IOptions<ServerOptions> options)
    {
        var request = await JsonBody.ReadAsync<CreateFineTuningJobRequest>(http.Request, options.Value.MaxBodyBytes, http.RequestAborted);
        if (string.IsNullOrEmpty(request.Model)) throw ApiException.Invalid("model is required: a model this server serves (GET /v1/models)", "model");
        var model = await ModelResolver.ResolveAsync(http, host, request.Model);
        string trainingFile = CheckFile(stores, request.TrainingFile, "training_file", required: true)!;
        string? validationFile = CheckFile(stores, request.ValidationFile, "validation_file", required: false);
        if (request.Suffix is { } suffix && (suffix.Length > MaxSuffixLength || !suffix.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
        {
            throw ApiException.Invalid($"suffix must be at most {MaxSuffixLength} characters of A-Z, a-z, 0-9, '.', '_' and '-'", "suffix");
        }
        if (request.Seed is < 0 or > int.MaxValue) throw ApiException.Invalid($"seed must be between 0 and {int.MaxValue}", "seed");
        if (request.Metadata is { } metadata && (metadata.Count > 16 || metadata.Any(p => p.Key.Length > 64 || p.Value is null || p.Value.Length > 512)))
        {
            throw ApiException.Invalid("metadata holds at most 16 pairs of strings, keys up to 64 and values up to 512 characters", "metadata");
        }
        var hyperparameters = Hyperparameters(request) with { MaxSteps = request.MaxSteps, PublishCheckpoints = request.PublishCheckpoints };
        try
        {
            FineTuningPlan.Validate(hyperparameters);
        }
        catch (ArgumentException e)
        {
            throw ApiException.Invalid(FilesEndpoints.FirstSentence(e.Message), e.ParamName);
        }

        var job = stores.Store.CreateJob(new JobRecord
        {
            Id = JobStore.NewId("ftjob"),
            CreatedAt = JobStore.Now,
            Model = model.Id,
            ModelFolder = Path.GetFullPath(model.Folder), // this revision's folder: the worker trains exactly these weights
            TrainingFile = trainingFile,
            ValidationFile = validationFile,
            Hyperparameters = hyperparameters,
            Suffix = request.Suffix,
            Seed = (int)(request.Seed ?? Random.Shared.Next()),
            Status = JobStatus.ValidatingFiles,
            Metadata = request.Metadata,
        });
        stores.Store.AddEvent(job.Id, "info", $"Created fine-tuning job: {job.Id}");
        return Results.Json(FineTuningJobObject.From(job), JsonBody.Options);
    }

    private static string? CheckFile(JobStores stores, string? id, string field, bool required)
    {
        if (string.IsNullOrEmpty(id))
        {
            return required ? throw ApiException.Invalid($"{field} is required: the id of an uploaded file (POST /v1/files)", field) : null;
        }
        var file = stores.Store.GetFile(id) ?? throw ApiException.Invalid($"{field}: no file with id '{id}'", field);
        if (file.Purpose != FileStore.FineTunePurpose) throw ApiException.Invalid($"{field}: file '{id}' has purpose '{file.Purpose}', not '{FileStore.FineTunePurpose}'", field);
        return id;
    }

    /// <summary>From <c>method.supervised.hyperparameters</c> (what current SDKs send), else the deprecated top-level <c>hyperparameters</c>.</summary>
    private static JobHyperparameters Hyperparameters(CreateFineTuningJobRequest request)
    {
        string prefix = "hyperparameters";
        JsonElement? nEpochs = request.Hyperparameters?.NEpochs, batchSize = request.Hyperparameters?.BatchSize,
            multiplier = request.Hyperparameters?.LearningRateMultiplier;
        if (request.Method is { ValueKind: JsonValueKind.Object } method)
        {
            string? type = method.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type != "supervised") throw ApiException.Invalid($"method.type must be 'supervised' (the only method this server trains), not '{type}'", "method.type");
            if (method.TryGetProperty("supervised", out var s) && s.ValueKind == JsonValueKind.Object
                && s.TryGetProperty("hyperparameters", out var h) && h.ValueKind == JsonValueKind.Object)
            {
                prefix = "method.supervised.hyperparameters";
                nEpochs = h.TryGetProperty("n_epochs", out var e) ? e : null;
                batchSize = h.TryGetProperty("batch_size", out var b) ? b : null;
                multiplier = h.TryGetProperty("learning_rate_multiplier", out var m) ? m : null;
            }
        }
        return new JobHyperparameters
        {
            NEpochs = (int?)Number(nEpochs, $"{prefix}.n_epochs", integer: true),
            BatchSize = (int?)Number(batchSize, $"{prefix}.batch_size", integer: true),
            LearningRateMultiplier = Number(multiplier, $"{prefix}.learning_rate_multiplier", integer: false),
        };
    }

    /// <summary>A number, or null for "auto" / absent.</summary>
    private static double? Number(JsonElement? value, string field, bool integer)
    {
        if (value is not { } v || v.ValueKind == JsonValueKind.Null || (v.ValueKind == JsonValueKind.String && v.GetString() == "auto")) return null;
        if (integer && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)) return i;
        if (!integer && v.ValueKind == JsonValueKind.Number) return v.GetDouble();
        throw ApiException.Invalid($"{field} must be {(integer ? "an integer" : "a number")} or \"auto\", not {v.GetRawText()}", field);
    }

    private static IResult Cancel(string id, JobStores stores)
    {
        var job = stores.Store.RequestCancel(id) ?? throw ApiException.NotFound($"no fine-tuning job with id '{id}'", "fine_tuning_job_id", "job_not_found");
        if (job.Status is JobStatus.Succeeded or JobStatus.Failed)
        {
            throw ApiException.Invalid($"the job has already {job.Status}; only a job that has not finished can be cancelled", null);
        }
        // Cancelled at once (no worker held it): its checkpoints, if a stopped worker left some, are no longer needed.
        if (job.Status == JobStatus.Cancelled && job.LeaseOwner is null) stores.Store.DeleteWorkFolder(job.Id);
        return Results.Json(FineTuningJobObject.From(job), JsonBody.Options);
    }

    private static async Task<IResult> Events(string id, HttpContext http, JobStores stores, IOptions<ServerOptions> options, string? after, int? limit, bool? stream)
    {
        var job = stores.FindJob(id);
        if (stream != true)
        {
            var (events, more) = stores.Store.ListEvents(job.Id, after, Limit(limit));
            return Results.Json(new FineTuningEventList(events.Select(FineTuningEventObject.From).ToList(), more), JsonBody.Options);
        }

        var cancellation = http.RequestAborted;
        await using var sse = await ServerSentEvents.StartAsync(http.Response, TimeSpan.FromSeconds(options.Value.KeepAliveSeconds), cancellation);
        long sent = 0;
        while (true)
        {
            // Read the status before the events, so the last events of a job that just finished are still sent.
            bool finished = JobStatus.IsTerminal(stores.FindJob(id).Status);
            foreach (var e in stores.Store.EventsSince(id, sent))
            {
                await sse.WriteAsync(FineTuningEventObject.From(e), cancellation);
                sent = e.Sequence;
            }
            if (finished) break;
            await Task.Delay(EventPollInterval, cancellation);
        }
        await sse.DoneAsync(cancellation);
        return Results.Empty;
    }

    private static int Limit(int? limit) => limit switch
    {
        null => 20,
        >= 1 and <= 100 => limit.Value,
        _ => throw ApiException.Invalid($"limit must be between 1 and 100, not {limit}", "limit"),
    };
}
