using Microsoft.Data.Sqlite;

namespace GenAI.Training.Jobs;

/// <summary>
/// The job store in SQLite (the one-machine default): <c>&lt;data root&gt;/genai.db</c> in WAL mode, shared by the
/// server and any number of worker processes on the same machine. Every method opens its own (pooled) connection and
/// is one statement or one transaction, so callers on any thread or process see a consistent state.
/// </summary>
public sealed class SqliteJobStore : IJobStore
{
    private const string Live = JobStore.LiveStatuses;
    private readonly string _connectionString;

    /// <summary>
    /// Opens (creating if needed) the store in <paramref name="dataRoot"/>: the database file
    /// <paramref name="databaseFile"/>, by default <c>genai.db</c> in the data root.
    /// </summary>
    public SqliteJobStore(string dataRoot, string? databaseFile = null)
    {
        DataRoot = Path.GetFullPath(dataRoot);
        Directory.CreateDirectory(DataRoot);
        string file = Path.GetFullPath(databaseFile ?? Path.Combine(DataRoot, JobStore.FileName));
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        _connectionString = ConnectionString(file);
        using var connection = Open();
        Execute(connection, """
            CREATE TABLE IF NOT EXISTS files (
                id TEXT PRIMARY KEY, filename TEXT NOT NULL, purpose TEXT NOT NULL, bytes INTEGER NOT NULL,
                created_at INTEGER NOT NULL, path TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS jobs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
                model TEXT NOT NULL, model_folder TEXT NOT NULL, training_file TEXT NOT NULL, validation_file TEXT,
                hyperparameters TEXT NOT NULL, plan TEXT, suffix TEXT, seed INTEGER NOT NULL, status TEXT NOT NULL,
                fine_tuned_model TEXT, finished_at INTEGER, error TEXT, trained_tokens INTEGER,
                lease_owner TEXT, lease_expires INTEGER, cancel_requested INTEGER NOT NULL DEFAULT 0, metadata TEXT);
            CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, seq);
            CREATE TABLE IF NOT EXISTS job_events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, job_id TEXT NOT NULL, created_at INTEGER NOT NULL,
                level TEXT NOT NULL, message TEXT NOT NULL, type TEXT NOT NULL, data TEXT);
            CREATE INDEX IF NOT EXISTS job_events_job ON job_events(job_id, seq);
            """);
    }

    /// <summary>The data root (absolute).</summary>
    public string DataRoot { get; }

    private static long NowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    // ---- files ----

    /// <summary>Records an uploaded file (its content is already in place).</summary>
    public void AddFile(StoredFile file)
    {
        using var c = Open();
        Execute(c, "INSERT INTO files (id, filename, purpose, bytes, created_at, path) VALUES ($id, $filename, $purpose, $bytes, $created, $path)",
            ("$id", file.Id), ("$filename", file.Filename), ("$purpose", file.Purpose), ("$bytes", file.Bytes), ("$created", file.CreatedAt), ("$path", file.Path));
    }

    /// <summary>The file, or null.</summary>
    public StoredFile? GetFile(string id)
    {
        using var c = Open();
        return Query(c, "SELECT * FROM files WHERE id = $id", JobRows.ReadFile, ("$id", id)).FirstOrDefault();
    }

    /// <summary>All files, newest first.</summary>
    public IReadOnlyList<StoredFile> ListFiles()
    {
        using var c = Open();
        return Query(c, "SELECT * FROM files ORDER BY created_at DESC, rowid DESC", JobRows.ReadFile);
    }

    /// <summary>Forgets the file; returns it (to delete its content), or null when there was none.</summary>
    public StoredFile? DeleteFile(string id)
    {
        using var c = Open();
        return Query(c, "DELETE FROM files WHERE id = $id RETURNING *", JobRows.ReadFile, ("$id", id)).FirstOrDefault();
    }

    // ---- jobs ----

    /// <summary>Records a new job (status <see cref="JobStatus.ValidatingFiles"/> unless set otherwise) and returns it as stored.</summary>
    public JobRecord CreateJob(JobRecord job)
    {
        using var c = Open();
        return Query(c, """
            INSERT INTO jobs (id, created_at, model, model_folder, training_file, validation_file, hyperparameters, suffix, seed, status, metadata)
            VALUES ($id, $created, $model, $folder, $train, $valid, $hyper, $suffix, $seed, $status, $metadata) RETURNING *
            """, JobRows.ReadJob, ("$id", job.Id), ("$created", job.CreatedAt), ("$model", job.Model), ("$folder", job.ModelFolder),
            ("$train", job.TrainingFile), ("$valid", job.ValidationFile), ("$hyper", JobRows.ToJson(job.Hyperparameters)), ("$suffix", job.Suffix),
            ("$seed", job.Seed), ("$status", job.Status), ("$metadata", job.Metadata is null ? null : JobRows.ToJson(job.Metadata))).Single();
    }

    /// <summary>The job, or null.</summary>
    public JobRecord? GetJob(string id)
    {
        using var c = Open();
        return Query(c, "SELECT * FROM jobs WHERE id = $id", JobRows.ReadJob, ("$id", id)).FirstOrDefault();
    }

    /// <summary>
    /// Up to <paramref name="limit"/> jobs, newest first, older than the job <paramref name="after"/> when given (OpenAI's
    /// cursor); <c>HasMore</c> says whether more follow.
    /// </summary>
    public (IReadOnlyList<JobRecord> Jobs, bool HasMore) ListJobs(string? after, int limit)
    {
        using var c = Open();
        var rows = Query(c, """
            SELECT * FROM jobs WHERE $after IS NULL OR seq < COALESCE((SELECT seq FROM jobs WHERE id = $after), -1)
            ORDER BY seq DESC LIMIT $limit
            """, JobRows.ReadJob, ("$after", after), ("$limit", limit + 1));
        return (rows.Take(limit).ToList(), rows.Count > limit);
    }

    /// <summary>
    /// Claims the oldest job that is not finished and not leased (or whose lease ran out: its worker died) for
    /// <paramref name="owner"/> until <paramref name="lease"/> from now; null when there is none.
    /// </summary>
    public JobRecord? TryClaim(string owner, TimeSpan lease)
    {
        using var c = Open();
        long now = NowMs;
        return Query(c, $"""
            UPDATE jobs SET lease_owner = $owner, lease_expires = $expires
            WHERE seq = (SELECT seq FROM jobs WHERE status IN {Live} AND (lease_owner IS NULL OR lease_expires < $now) ORDER BY seq LIMIT 1)
            RETURNING *
            """, JobRows.ReadJob, ("$owner", owner), ("$expires", now + (long)lease.TotalMilliseconds), ("$now", now)).FirstOrDefault();
    }

    /// <summary>
    /// Extends <paramref name="owner"/>'s lease on the job; returns null when the owner no longer holds it (it ran out
    /// and another worker claimed it, or the job was cancelled before a worker took it), else whether a cancel was asked for.
    /// </summary>
    public bool? RenewLease(string jobId, string owner, TimeSpan lease)
    {
        using var c = Open();
        var rows = Query(c, $"""
            UPDATE jobs SET lease_expires = $expires WHERE id = $id AND lease_owner = $owner AND status IN {Live}
            RETURNING cancel_requested
            """, r => r.GetInt64(0) != 0, ("$id", jobId), ("$owner", owner), ("$expires", NowMs + (long)lease.TotalMilliseconds));
        return rows.Count == 0 ? null : rows[0];
    }

    /// <inheritdoc />
    public bool HoldsLease(string jobId, string owner)
    {
        using var c = Open();
        return Query(c, "SELECT 1 FROM jobs WHERE id = $id AND lease_owner = $owner AND lease_expires > $now", r => true,
            ("$id", jobId), ("$owner", owner), ("$now", NowMs)).Count == 1;
    }

    /// <summary>Moves a leased job to <paramref name="status"/>; false when <paramref name="owner"/> lost the lease.</summary>
    public bool SetStatus(string jobId, string owner, string status) =>
        UpdateLeased(jobId, owner, "status = $status", ("$status", status));

    /// <summary>Records the resolved hyperparameters of a leased job.</summary>
    public bool SetPlan(string jobId, string owner, FineTuningPlan plan, long trainedTokens) =>
        UpdateLeased(jobId, owner, "plan = $plan, trained_tokens = $tokens", ("$plan", JobRows.ToJson(plan)), ("$tokens", trainedTokens));

    /// <summary>Finishes a leased job successfully with its published model.</summary>
    public bool Succeed(string jobId, string owner, string fineTunedModel) =>
        UpdateLeased(jobId, owner, ("info", "The job has successfully completed"), $"status = '{JobStatus.Succeeded}', fine_tuned_model = $model, finished_at = $now, lease_owner = NULL, lease_expires = NULL",
            ("$model", fineTunedModel), ("$now", JobStore.Now));

    /// <summary>Finishes a leased job as failed.</summary>
    public bool Fail(string jobId, string owner, JobError error) =>
        UpdateLeased(jobId, owner, ("error", $"Fine-tuning job failed: {error.Message}"), $"status = '{JobStatus.Failed}', error = $error, finished_at = $now, lease_owner = NULL, lease_expires = NULL",
            ("$error", JobRows.ToJson(error)), ("$now", JobStore.Now));

    /// <summary>Finishes a leased job as cancelled (its worker stopped it on request).</summary>
    public bool MarkCancelled(string jobId, string owner) =>
        UpdateLeased(jobId, owner, ("info", "Job cancelled"), $"status = '{JobStatus.Cancelled}', finished_at = $now, lease_owner = NULL, lease_expires = NULL", ("$now", JobStore.Now));

    /// <summary>Gives a leased job back (a worker shutting down): queued again, to resume from its checkpoint.</summary>
    public bool Release(string jobId, string owner) =>
        UpdateLeased(jobId, owner, $"status = '{JobStatus.Queued}', lease_owner = NULL, lease_expires = NULL");

    /// <summary>
    /// Cancels a job: at once when no worker holds it, else by asking its worker (which stops at its next heartbeat).
    /// Returns the job after the change (unchanged when it had already finished), or null when there is no such job.
    /// </summary>
    public JobRecord? RequestCancel(string jobId)
    {
        using var c = Open();
        using var transaction = c.BeginTransaction();
        long now = NowMs;
        var job = Query(c, "SELECT * FROM jobs WHERE id = $id", JobRows.ReadJob, ("$id", jobId)).FirstOrDefault();
        if (job is null || JobStatus.IsTerminal(job.Status)) return job;
        bool held = job.LeaseOwner is not null && job.LeaseExpiresAt >= now;
        var updated = held
            ? Query(c, "UPDATE jobs SET cancel_requested = 1 WHERE id = $id RETURNING *", JobRows.ReadJob, ("$id", jobId)).Single()
            : Query(c, $"""
                UPDATE jobs SET cancel_requested = 1, status = '{JobStatus.Cancelled}', finished_at = $now, lease_owner = NULL, lease_expires = NULL
                WHERE id = $id RETURNING *
                """, JobRows.ReadJob, ("$id", jobId), ("$now", JobStore.Now)).Single();
        if (!held) InsertEvent(c, jobId, "info", "Job cancelled", "message", null);
        transaction.Commit();
        return updated;
    }

    // ---- events ----

    /// <summary>Appends an event to the job's history.</summary>
    public void AddEvent(string jobId, string level, string message, string type = "message", object? data = null)
    {
        using var c = Open();
        InsertEvent(c, jobId, level, message, type, data is null ? null : JobRows.ToJson(data));
    }

    /// <summary>
    /// Up to <paramref name="limit"/> events of the job, newest first, older than the event <paramref name="after"/>
    /// when given; <c>HasMore</c> says whether more follow.
    /// </summary>
    public (IReadOnlyList<JobEvent> Events, bool HasMore) ListEvents(string jobId, string? after, int limit)
    {
        using var c = Open();
        var rows = Query(c, """
            SELECT * FROM job_events WHERE job_id = $job AND ($after IS NULL OR seq < COALESCE((SELECT seq FROM job_events WHERE id = $after), -1))
            ORDER BY seq DESC LIMIT $limit
            """, JobRows.ReadEvent, ("$job", jobId), ("$after", after), ("$limit", limit + 1));
        return (rows.Take(limit).ToList(), rows.Count > limit);
    }

    /// <summary>The job's events after <paramref name="afterSequence"/>, oldest first (for following a job live).</summary>
    public IReadOnlyList<JobEvent> EventsSince(string jobId, long afterSequence)
    {
        using var c = Open();
        return Query(c, "SELECT * FROM job_events WHERE job_id = $job AND seq > $after ORDER BY seq", JobRows.ReadEvent, ("$job", jobId), ("$after", afterSequence));
    }

    /// <summary>Returns pooled connections, so the database file can be deleted.</summary>
    public void Dispose()
    {
        using var c = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(c);
    }

    // ---- plumbing ----

    /// <summary>
    /// The connection string of a store's database file (pooled, created when missing), after switching the file to
    /// WAL: readers never wait for a writer. Shared with <see cref="SqliteResponseStore"/>, whose table lives in the same file.
    /// </summary>
    internal static string ConnectionString(string file)
    {
        string connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = file,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        using var connection = Open(connectionString);
        Execute(connection, "PRAGMA journal_mode = WAL;");
        return connectionString;
    }

    private SqliteConnection Open() => Open(_connectionString);

    internal static SqliteConnection Open(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        // Another process may hold the write lock for a moment: wait for it rather than fail.
        Execute(connection, "PRAGMA busy_timeout = 10000;");
        return connection;
    }

    private bool UpdateLeased(string jobId, string owner, string assignments, params (string, object?)[] parameters) =>
        UpdateLeased(jobId, owner, null, assignments, parameters);

    // A finishing transition and its closing event commit together (or neither, when the lease is no longer held).
    private bool UpdateLeased(string jobId, string owner, (string Level, string Message)? closingEvent, string assignments, params (string, object?)[] parameters)
    {
        using var c = Open();
        using var transaction = c.BeginTransaction();
        bool updated = Execute(c, $"UPDATE jobs SET {assignments} WHERE id = $id AND lease_owner = $owner AND status IN {Live}",
            [.. parameters, ("$id", jobId), ("$owner", owner)]) == 1;
        if (updated && closingEvent is { } e) InsertEvent(c, jobId, e.Level, e.Message, "message", null);
        transaction.Commit();
        return updated;
    }

    private static void InsertEvent(SqliteConnection c, string jobId, string level, string message, string type, string? data) =>
        Execute(c, "INSERT INTO job_events (id, job_id, created_at, level, message, type, data) VALUES ($id, $job, $created, $level, $message, $type, $data)",
            ("$id", JobStore.NewId("ftevent")), ("$job", jobId), ("$created", JobStore.Now), ("$level", level), ("$message", message), ("$type", type), ("$data", data));

    internal static int Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }

    internal static List<T> Query<T>(SqliteConnection connection, string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(read(reader));
        return rows;
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

}
