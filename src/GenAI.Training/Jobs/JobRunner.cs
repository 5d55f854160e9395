using System.Globalization;
using System.Text;
using GenAI.Core.Checkpoints;
using GenAI.Core.Models;
using GenAI.Core.Runtime;
using GenAI.Core.Tokenization;

namespace GenAI.Training.Jobs;

/// <summary>How a job run ended.</summary>
public enum JobOutcome
{
    /// <summary>Succeeded, failed, or found cancelled: the job is finished.</summary>
    Finished,
    /// <summary>Stopped by its cancellation token (cancel, shutdown, or a lost lease): the caller decides what it means.</summary>
    Stopped,
    /// <summary>The worker lost its lease: another worker owns the job now.</summary>
    LeaseLost,
    /// <summary>Trained, but a cancel was requested before the model was published: the caller marks it cancelled.</summary>
    CancelRequested,
}

/// <summary>
/// Runs one claimed job on the calling thread: reads and tokenizes its files, resolves its hyperparameters, trains
/// (resuming from <c>&lt;data root&gt;/jobs/&lt;id&gt;/checkpoint</c>), publishes the model and records every stage as
/// a job event. The caller holds the lease and renews it meanwhile.
/// </summary>
public sealed class JobRunner(IJobStore store, string modelsRoot, TextWriter log)
{
    /// <summary>
    /// The published name of a job's model: <c>{base}-ft[-{suffix}]-{8 chars of the id}</c>, chars [A-Za-z0-9._-] only
    /// (a valid <see cref="GenAI.Core.Checkpoints.ModelRepository"/> name).
    /// </summary>
    public static string FineTunedModelName(JobRecord job)
    {
        static string Clean(string s) => new(s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray());
        string suffix = string.IsNullOrEmpty(job.Suffix) ? "" : "-" + Clean(job.Suffix);
        string model = Clean(job.Model).TrimStart('.', '-');
        if (model.Length > 64) model = model[..64];
        return $"{model}-ft{suffix}-{job.Id[(job.Id.IndexOf('-') + 1)..][..8].ToLowerInvariant()}";
    }

    /// <summary>The job's working folder (checkpoint and training output).</summary>
    public string WorkFolder(string jobId) => store.WorkFolder(jobId);

    /// <summary>Runs <paramref name="job"/> as <paramref name="owner"/> until it finishes or <paramref name="cancellation"/> stops it.</summary>
    public JobOutcome Run(JobRecord job, string owner, CancellationToken cancellation)
    {
        try
        {
            return Execute(job, owner, cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return JobOutcome.Stopped;
        }
        catch (LeaseLostException)
        {
            return JobOutcome.LeaseLost;
        }
        catch (Exception e)
        {
            string code = e is InvalidDataException or ArgumentException or FileNotFoundException ? "invalid_training_data" : "training_error";
            string? param = (e as ArgumentException)?.ParamName;
            log.WriteLine($"job {job.Id} failed: {e}");
            Check(store.Fail(job.Id, owner, new JobError(code, e.Message, param)));
            store.DeleteWorkFolder(job.Id); // a failed job is never resumed
            return JobOutcome.Finished;
        }
    }

    private JobOutcome Execute(JobRecord job, string owner, CancellationToken cancellation)
    {
        bool resuming = job.Status == JobStatus.Running;
        if (!resuming) store.AddEvent(job.Id, "info", $"Validating training file: {job.TrainingFile}");
        var tokenizer = TokenizerLoader.Load(job.ModelFolder);
        var template = ChatTemplate.Load(job.ModelFolder, tokenizer);
        var train = ReadFile(job.TrainingFile, "training_file", template);
        var validation = job.ValidationFile is null ? null : ReadFile(job.ValidationFile, "validation_file", template);
        if (!resuming) Check(store.SetStatus(job.Id, owner, JobStatus.Queued));
        cancellation.ThrowIfCancellationRequested();

        TorchRuntime.EnsureAvailable();
        using var data = Tokenize(train, validation, tokenizer);
        using var model = ModelLoader.Load(job.ModelFolder, new ModelLoadOptions { Device = "cpu" });
        var plan = FineTuningPlan.Resolve(job.Hyperparameters, data.Sizes.Train, data.Sizes.Validation, model.Config.ContextLength);
        Check(store.SetPlan(job.Id, owner, plan, (long)plan.Steps * plan.BatchSize * plan.BlockSize));
        Check(store.SetStatus(job.Id, owner, JobStatus.Running));
        string checkpoint = Path.Combine(WorkFolder(job.Id), "checkpoint");
        bool hasCheckpoint = TrainingCheckpoint.LatestFolder(checkpoint) is not null;
        store.AddEvent(job.Id, "info", resuming || hasCheckpoint
            ? "Fine-tuning job resumed" + (hasCheckpoint ? " from its last checkpoint" : "")
            : $"Fine-tuning job started: {plan.Steps} steps of {plan.BatchSize} x {plan.BlockSize} tokens");

        string name = FineTunedModelName(job);
        string output = Path.Combine(WorkFolder(job.Id), "output");
        if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        var progress = new JobProgress(this, job, plan, name, checkpoint);
        Trainer.Train(model, tokenizer, data, plan.ToTrainingOptions(job.Seed), output, log, new TrainingRun
        {
            CheckpointFolder = checkpoint,
            CheckpointInterval = plan.CheckpointInterval,
            Progress = progress,
            Cancellation = cancellation,
            MayWriteCheckpoint = () => store.HoldsLease(job.Id, owner),
        });

        // A cancel the worker's heartbeat has not seen yet (a short job ends between two) still wins over publishing.
        if (store.GetJob(job.Id) is { CancelRequested: true }) return JobOutcome.CancelRequested;
        CopyMissingFiles(job.ModelFolder, output);
        new ModelRepository(modelsRoot).Publish(name, output);
        store.AddEvent(job.Id, "info", $"New fine-tuned model created: {name}");
        Check(store.Succeed(job.Id, owner, name));
        store.DeleteWorkFolder(job.Id);
        return JobOutcome.Finished;
    }

    /// <summary>
    /// Turns the trainer's progress into metrics events and, when the job asked for it, publishes each new checkpoint
    /// as a revision of the fine-tuned model (the trainer reports the step after a checkpoint was written).
    /// </summary>
    private sealed class JobProgress(JobRunner runner, JobRecord job, FineTuningPlan plan, string name, string checkpointFolder) : IProgress<TrainingProgress>
    {
        private string? _published = TrainingCheckpoint.LatestFolder(checkpointFolder);

        public void Report(TrainingProgress value)
        {
            runner.ReportStep(job.Id, plan, value);
            if (job.Hyperparameters.PublishCheckpoints != true || value.Step >= value.MaxSteps) return;
            string? latest = TrainingCheckpoint.LatestFolder(checkpointFolder);
            if (latest is null || latest == _published) return;
            _published = latest;
            runner.PublishCheckpoint(job, name, latest);
        }
    }

    /// <summary>Publishes a checkpoint's model (not its optimizer state) as the next revision of <paramref name="name"/>.</summary>
    private void PublishCheckpoint(JobRecord job, string name, string checkpointStep)
    {
        string export = Path.Combine(WorkFolder(job.Id), "export");
        if (Directory.Exists(export)) Directory.Delete(export, recursive: true);
        try
        {
            Directory.CreateDirectory(export);
            foreach (string file in Directory.EnumerateFiles(checkpointStep).Where(f => TrainingCheckpoint.IsModelFile(f)))
            {
                File.Copy(file, Path.Combine(export, Path.GetFileName(file)));
            }
            CopyMissingFiles(job.ModelFolder, export);
            var revision = new ModelRepository(modelsRoot).Publish(name, export);
            store.AddEvent(job.Id, "info", $"Checkpoint {Path.GetFileName(checkpointStep)} published as {name} {revision.Revision}");
        }
        finally
        {
            Directory.Delete(export, recursive: true);
        }
    }

    private static TokenDataset Tokenize(IReadOnlyList<TrainingDocument> train, IReadOnlyList<TrainingDocument>? validation, TextTokenizer tokenizer)
    {
        try
        {
            return TokenDataset.FromDocuments(train, validation, tokenizer);
        }
        catch (UnknownTokenException e)
        {
            throw new ArgumentException($"the data has text this model's tokenizer cannot encode: {e.Message}", "training_file", e);
        }
    }

    private IReadOnlyList<TrainingDocument> ReadFile(string fileId, string field, ChatTemplate template)
    {
        var file = store.GetFile(fileId) ?? throw new ArgumentException($"the file {fileId} no longer exists", field);
        try
        {
            return TrainingData.ReadDocuments(Path.Combine(store.DataRoot, file.Path), template);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
        {
            throw new ArgumentException($"{field} {fileId}: {e.Message}", field, e);
        }
    }

    /// <summary>Metrics every <see cref="FineTuningPlan.MetricsInterval"/> steps, at evaluations and at the last step.</summary>
    private void ReportStep(string jobId, FineTuningPlan plan, TrainingProgress step)
    {
        if (step.Evaluation is null && step.Step % plan.MetricsInterval != 0 && step.Step != step.MaxSteps) return;
        var data = new Dictionary<string, object>
        {
            ["step"] = step.Step,
            ["total_steps"] = step.MaxSteps,
            ["train_loss"] = Math.Round(step.Evaluation?.TrainLoss ?? step.Loss, 5),
            ["learning_rate"] = step.LearningRate,
        };
        if (step.Evaluation is { } e) data["valid_loss"] = Math.Round(e.ValidationLoss, 5);
        if (step.TokensPerSecond > 0) data["tokens_per_second"] = Math.Round(step.TokensPerSecond);
        string message = string.Create(CultureInfo.InvariantCulture, $"Step {step.Step}/{step.MaxSteps}: training loss={data["train_loss"]}")
            + (data.TryGetValue("valid_loss", out var v) ? string.Create(CultureInfo.InvariantCulture, $", validation loss={v}") : "");
        store.AddEvent(jobId, "info", message, "metrics", data);
    }

    /// <summary>Generation defaults, which the trainer does not write either.</summary>
    private const string GenerationConfigFile = "generation_config.json";

    /// <summary>
    /// The base model's tokenizer files (<see cref="HuggingFaceTokenizer.Files"/>: settings, chat templates, the
    /// named templates' folder) and generation defaults that the output lacks (never weights or weight indexes:
    /// the output has its own).
    /// </summary>
    internal static void CopyMissingFiles(string from, string to)
    {
        HuggingFaceTokenizer.CopyFiles(from, to, overwrite: false);
        string generation = Path.Combine(from, GenerationConfigFile), target = Path.Combine(to, GenerationConfigFile);
        if (File.Exists(generation) && !File.Exists(target)) File.Copy(generation, target);
    }

    private static void Check(bool stillLeased)
    {
        if (!stillLeased) throw new LeaseLostException();
    }

    private sealed class LeaseLostException : Exception;
}
