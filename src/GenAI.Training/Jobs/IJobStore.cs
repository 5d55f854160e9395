namespace GenAI.Training.Jobs;

/// <summary>
/// The durable record of uploaded files, fine-tuning jobs and their events, shared by every server replica and worker
/// process that uses the same store. A worker owns a job through a lease (owner id + expiry) that it renews with
/// heartbeats; a lease that runs out lets another worker claim the job and resume it from its checkpoint. File contents
/// and checkpoints live on the (shared) data root; the store holds only their metadata. Implementations:
/// <see cref="SqliteJobStore"/> (one machine, the default) and <see cref="PostgresJobStore"/> (many machines), chosen by
/// <see cref="JobStoreConnection"/>. Every method is one statement or one transaction, safe from any thread or process.
/// </summary>
public interface IJobStore : IDisposable
{
    /// <summary>The data root (absolute): uploaded files' content and jobs' working folders.</summary>
    string DataRoot { get; }

    /// <summary>A job's working folder: its checkpoints and training output.</summary>
    string WorkFolder(string jobId) => Path.Combine(DataRoot, "jobs", jobId);

    /// <summary>Deletes a finished job's working folder; a leftover only costs disk, so failures are ignored.</summary>
    void DeleteWorkFolder(string jobId)
    {
        try
        {
            if (Directory.Exists(WorkFolder(jobId))) Directory.Delete(WorkFolder(jobId), recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Records an uploaded file (its content is already in place).</summary>
    void AddFile(StoredFile file);

    /// <summary>The file, or null.</summary>
    StoredFile? GetFile(string id);

    /// <summary>All files, newest first.</summary>
    IReadOnlyList<StoredFile> ListFiles();

    /// <summary>Forgets the file; returns it (to delete its content), or null when there was none.</summary>
    StoredFile? DeleteFile(string id);

    /// <summary>Records a new job (status <see cref="JobStatus.ValidatingFiles"/> unless set otherwise) and returns it as stored.</summary>
    JobRecord CreateJob(JobRecord job);

    /// <summary>The job, or null.</summary>
    JobRecord? GetJob(string id);

    /// <summary>
    /// Up to <paramref name="limit"/> jobs, newest first, older than the job <paramref name="after"/> when given (OpenAI's
    /// cursor); <c>HasMore</c> says whether more follow.
    /// </summary>
    (IReadOnlyList<JobRecord> Jobs, bool HasMore) ListJobs(string? after, int limit);

    /// <summary>
    /// Claims the oldest job that is not finished and not leased (or whose lease ran out: its worker died) for
    /// <paramref name="owner"/> until <paramref name="lease"/> from now; null when there is none. Two workers asking at
    /// once never get the same job.
    /// </summary>
    JobRecord? TryClaim(string owner, TimeSpan lease);

    /// <summary>
    /// Extends <paramref name="owner"/>'s lease on the job; returns null when the owner no longer holds it (it ran out
    /// and another worker claimed it, or the job was cancelled before a worker took it), else whether a cancel was asked for.
    /// </summary>
    bool? RenewLease(string jobId, string owner, TimeSpan lease);

    /// <summary>
    /// True while <paramref name="owner"/> holds a live lease on the job, by the store's clock (the database's, for
    /// PostgreSQL: workers on machines with skewed clocks still agree). Checked before each checkpoint write.
    /// </summary>
    bool HoldsLease(string jobId, string owner);

    /// <summary>Moves a leased job to <paramref name="status"/>; false when <paramref name="owner"/> lost the lease.</summary>
    bool SetStatus(string jobId, string owner, string status);

    /// <summary>Records the resolved hyperparameters of a leased job.</summary>
    bool SetPlan(string jobId, string owner, FineTuningPlan plan, long trainedTokens);

    /// <summary>
    /// Finishes a leased job successfully with its published model. Each finishing transition writes its closing event
    /// in the same transaction as the status, so a client that reads events until the status is final sees it.
    /// </summary>
    bool Succeed(string jobId, string owner, string fineTunedModel);

    /// <summary>Finishes a leased job as failed.</summary>
    bool Fail(string jobId, string owner, JobError error);

    /// <summary>Finishes a leased job as cancelled (its worker stopped it on request).</summary>
    bool MarkCancelled(string jobId, string owner);

    /// <summary>Gives a leased job back (a worker shutting down): queued again, to resume from its checkpoint.</summary>
    bool Release(string jobId, string owner);

    /// <summary>
    /// Cancels a job: at once when no worker holds it, else by asking its worker (which stops at its next heartbeat).
    /// Returns the job after the change (unchanged when it had already finished), or null when there is no such job.
    /// </summary>
    JobRecord? RequestCancel(string jobId);

    /// <summary>Appends an event to the job's history.</summary>
    void AddEvent(string jobId, string level, string message, string type = "message", object? data = null);

    /// <summary>
    /// Up to <paramref name="limit"/> events of the job, newest first, older than the event <paramref name="after"/>
    /// when given; <c>HasMore</c> says whether more follow.
    /// </summary>
    (IReadOnlyList<JobEvent> Events, bool HasMore) ListEvents(string jobId, string? after, int limit);

    /// <summary>The job's events after <paramref name="afterSequence"/>, oldest first (for following a job live).</summary>
    IReadOnlyList<JobEvent> EventsSince(string jobId, long afterSequence);
}

/// <summary>What every job store shares: ids, the clock, the SQLite file's name.</summary>
public static class JobStore
{
    /// <summary>The SQLite database file's name inside the data root (the default store).</summary>
    public const string FileName = "genai.db";

    /// <summary>A new id: <paramref name="prefix"/>, a dash and 24 random letters and digits (OpenAI's id shape).</summary>
    public static string NewId(string prefix) =>
        prefix + "-" + System.Security.Cryptography.RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 24);

    /// <summary>The clock, in Unix seconds.</summary>
    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>The statuses a worker may still claim, as an SQL list.</summary>
    internal const string LiveStatuses = $"('{JobStatus.ValidatingFiles}', '{JobStatus.Queued}', '{JobStatus.Running}')";
}
