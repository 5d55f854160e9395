using System.Data.Common;
using Npgsql;

namespace GenAI.Training.Jobs;

/// <summary>
/// The job store in PostgreSQL, for many API replicas and workers on many machines: the same tables and behaviour as
/// <see cref="SqliteJobStore"/>. A claim takes the oldest free job with <c>FOR UPDATE SKIP LOCKED</c>, so concurrent
/// workers never wait on or get the same row; lease times are the database's clock, so machines with skewed clocks
/// agree on when a lease ran out. The schema is migrated when the store opens, under a transaction-scoped advisory
/// lock, so processes starting together apply each migration exactly once.
/// </summary>
public sealed class PostgresJobStore : IJobStore
{
    /// <summary>The advisory lock key that serialises migrations (any constant; "GenAIjob" in ASCII).</summary>
    private const long MigrationLock = 0x47656E41496A6F62;

    private const string Live = JobStore.LiveStatuses;

    /// <summary>Milliseconds since the epoch by the database's clock (advances within a transaction, unlike now()).</summary>
    private const string NowMs = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

    /// <summary>The schema, one step per version; a step is never edited once shipped, only followed by new ones.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE files (
            seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, filename text NOT NULL, purpose text NOT NULL,
            bytes bigint NOT NULL, created_at bigint NOT NULL, path text NOT NULL);
        CREATE TABLE jobs (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL UNIQUE, created_at bigint NOT NULL,
            model text NOT NULL, model_folder text NOT NULL, training_file text NOT NULL, validation_file text,
            hyperparameters text NOT NULL, plan text, suffix text, seed bigint NOT NULL, status text NOT NULL,
            fine_tuned_model text, finished_at bigint, error text, trained_tokens bigint,
            lease_owner text, lease_expires bigint, cancel_requested boolean NOT NULL DEFAULT false, metadata text);
        CREATE INDEX jobs_status ON jobs(status, seq);
        CREATE TABLE job_events (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL UNIQUE, job_id text NOT NULL,
            created_at bigint NOT NULL, level text NOT NULL, message text NOT NULL, type text NOT NULL, data text);
        CREATE INDEX job_events_job ON job_events(job_id, seq);
        """,
        // Stored responses of the Responses API (PostgresResponseStore): one database, one schema version.
        """
        CREATE TABLE responses (
            id text PRIMARY KEY, created_at bigint NOT NULL, model text NOT NULL, previous_response_id text,
            status text NOT NULL, input_items text NOT NULL, response text NOT NULL);
        """,
    ];

    private readonly NpgsqlDataSource _source;

    /// <summary>
    /// Connects to the database <paramref name="connectionString"/> names (Npgsql keywords) and brings its schema up to
    /// date; file contents and job folders stay under <paramref name="dataRoot"/>, which every replica and worker must share.
    /// </summary>
    public PostgresJobStore(string connectionString, string dataRoot)
    {
        DataRoot = Path.GetFullPath(dataRoot);
        Directory.CreateDirectory(DataRoot);
        _source = NpgsqlDataSource.Create(connectionString);
        try
        {
            Migrate(_source);
        }
        catch
        {
            _source.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public string DataRoot { get; }

    /// <summary>The schema version this code writes (the number of migrations).</summary>
    public static int SchemaVersion => Migrations.Length;

    /// <summary>
    /// Brings the database's schema (jobs, files, events and stored responses) up to date; every store on PostgreSQL
    /// calls it when it opens.
    /// </summary>
    internal static void Migrate(NpgsqlDataSource source)
    {
        using var c = source.OpenConnection();
        using var transaction = c.BeginTransaction();
        // Held until commit: a second process starting at the same moment waits here, then finds the work done.
        Execute(c, "SELECT pg_advisory_xact_lock(@key)", ("key", MigrationLock));
        Execute(c, "CREATE TABLE IF NOT EXISTS genai_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
        int current = Query(c, "SELECT COALESCE(MAX(version), 0) FROM genai_schema_migrations", r => r.GetInt32(0)).Single();
        if (current > Migrations.Length)
        {
            throw new InvalidOperationException($"the job store's schema is version {current}, newer than this program's {Migrations.Length}: upgrade GenAI");
        }
        for (int version = current + 1; version <= Migrations.Length; version++)
        {
            Execute(c, Migrations[version - 1]);
            Execute(c, "INSERT INTO genai_schema_migrations (version) VALUES (@version)", ("version", version));
        }
        transaction.Commit();
    }

    // ---- files ----

    /// <inheritdoc />
    public void AddFile(StoredFile file)
    {
        using var c = _source.OpenConnection();
        Execute(c, "INSERT INTO files (id, filename, purpose, bytes, created_at, path) VALUES (@id, @filename, @purpose, @bytes, @created, @path)",
            ("id", file.Id), ("filename", file.Filename), ("purpose", file.Purpose), ("bytes", file.Bytes), ("created", file.CreatedAt), ("path", file.Path));
    }

    /// <inheritdoc />
    public StoredFile? GetFile(string id)
    {
        using var c = _source.OpenConnection();
        return Query(c, "SELECT * FROM files WHERE id = @id", JobRows.ReadFile, ("id", id)).FirstOrDefault();
    }

    /// <inheritdoc />
    public IReadOnlyList<StoredFile> ListFiles()
    {
        using var c = _source.OpenConnection();
        return Query(c, "SELECT * FROM files ORDER BY created_at DESC, seq DESC", JobRows.ReadFile);
    }

    /// <inheritdoc />
    public StoredFile? DeleteFile(string id)
    {
        using var c = _source.OpenConnection();
        return Query(c, "DELETE FROM files WHERE id = @id RETURNING *", JobRows.ReadFile, ("id", id)).FirstOrDefault();
    }

    // ---- jobs ----

    /// <inheritdoc />
    public JobRecord CreateJob(JobRecord job)
    {
        using var c = _source.OpenConnection();
        return Query(c, """
            INSERT INTO jobs (id, created_at, model, model_folder, training_file, validation_file, hyperparameters, suffix, seed, status, metadata)
            VALUES (@id, @created, @model, @folder, @train, @valid, @hyper, @suffix, @seed, @status, @metadata) RETURNING *
            """, JobRows.ReadJob, ("id", job.Id), ("created", job.CreatedAt), ("model", job.Model), ("folder", job.ModelFolder),
            ("train", job.TrainingFile), ("valid", job.ValidationFile), ("hyper", JobRows.ToJson(job.Hyperparameters)), ("suffix", job.Suffix),
            ("seed", (long)job.Seed), ("status", job.Status), ("metadata", job.Metadata is null ? null : JobRows.ToJson(job.Metadata))).Single();
    }

    /// <inheritdoc />
    public JobRecord? GetJob(string id)
    {
        using var c = _source.OpenConnection();
        return Query(c, "SELECT * FROM jobs WHERE id = @id", JobRows.ReadJob, ("id", id)).FirstOrDefault();
    }

    /// <inheritdoc />
    public (IReadOnlyList<JobRecord> Jobs, bool HasMore) ListJobs(string? after, int limit)
    {
        using var c = _source.OpenConnection();
        var rows = Query(c, """
            SELECT * FROM jobs WHERE @after::text IS NULL OR seq < COALESCE((SELECT seq FROM jobs WHERE id = @after::text), -1)
            ORDER BY seq DESC LIMIT @limit
            """, JobRows.ReadJob, ("after", after), ("limit", limit + 1));
        return (rows.Take(limit).ToList(), rows.Count > limit);
    }

    /// <inheritdoc />
    public JobRecord? TryClaim(string owner, TimeSpan lease)
    {
        using var c = _source.OpenConnection();
        // SKIP LOCKED: a row another worker is claiming right now is passed over, not waited for (and never double-claimed).
        return Query(c, $"""
            UPDATE jobs SET lease_owner = @owner, lease_expires = {NowMs} + @lease
            WHERE seq = (
                SELECT seq FROM jobs WHERE status IN {Live} AND (lease_owner IS NULL OR lease_expires < {NowMs})
                ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING *
            """, JobRows.ReadJob, ("owner", owner), ("lease", (long)lease.TotalMilliseconds)).FirstOrDefault();
    }

    /// <inheritdoc />
    public bool? RenewLease(string jobId, string owner, TimeSpan lease)
    {
        using var c = _source.OpenConnection();
        var rows = Query(c, $"""
            UPDATE jobs SET lease_expires = {NowMs} + @lease WHERE id = @id AND lease_owner = @owner AND status IN {Live}
            RETURNING cancel_requested
            """, r => r.GetBoolean(0), ("id", jobId), ("owner", owner), ("lease", (long)lease.TotalMilliseconds));
        return rows.Count == 0 ? null : rows[0];
    }

    /// <inheritdoc />
    public bool HoldsLease(string jobId, string owner)
    {
        using var c = _source.OpenConnection();
        return Query(c, $"SELECT 1 FROM jobs WHERE id = @id AND lease_owner = @owner AND lease_expires > {NowMs}", r => true,
            ("id", jobId), ("owner", owner)).Count == 1;
    }

    /// <inheritdoc />
    public bool SetStatus(string jobId, string owner, string status) =>
        UpdateLeased(jobId, owner, "status = @status", ("status", status));

    /// <inheritdoc />
    public bool SetPlan(string jobId, string owner, FineTuningPlan plan, long trainedTokens) =>
        UpdateLeased(jobId, owner, "plan = @plan, trained_tokens = @tokens", ("plan", JobRows.ToJson(plan)), ("tokens", trainedTokens));

    /// <inheritdoc />
    public bool Succeed(string jobId, string owner, string fineTunedModel) =>
        UpdateLeased(jobId, owner, ("info", "The job has successfully completed"), $"status = '{JobStatus.Succeeded}', fine_tuned_model = @model, finished_at = @now, lease_owner = NULL, lease_expires = NULL",
            ("model", fineTunedModel), ("now", JobStore.Now));

    /// <inheritdoc />
    public bool Fail(string jobId, string owner, JobError error) =>
        UpdateLeased(jobId, owner, ("error", $"Fine-tuning job failed: {error.Message}"), $"status = '{JobStatus.Failed}', error = @error, finished_at = @now, lease_owner = NULL, lease_expires = NULL",
            ("error", JobRows.ToJson(error)), ("now", JobStore.Now));

    /// <inheritdoc />
    public bool MarkCancelled(string jobId, string owner) =>
        UpdateLeased(jobId, owner, ("info", "Job cancelled"), $"status = '{JobStatus.Cancelled}', finished_at = @now, lease_owner = NULL, lease_expires = NULL", ("now", JobStore.Now));

    /// <inheritdoc />
    public bool Release(string jobId, string owner) =>
        UpdateLeased(jobId, owner, $"status = '{JobStatus.Queued}', lease_owner = NULL, lease_expires = NULL");

    /// <inheritdoc />
    public JobRecord? RequestCancel(string jobId)
    {
        using var c = _source.OpenConnection();
        using var transaction = c.BeginTransaction();
        // The row lock keeps a worker from claiming the job between the look and the change. Whether the lease is
        // held is judged in the same read, on the database's clock like the other lease checks; a NULL (an owner
        // without an expiry) counts as not held, as in SqliteJobStore.
        var (job, held) = Query(c, $"SELECT *, lease_owner IS NOT NULL AND lease_expires >= {NowMs} AS held FROM jobs WHERE id = @id FOR UPDATE",
            r => (JobRows.ReadJob(r), r["held"] is true), ("id", jobId)).FirstOrDefault();
        if (job is null || JobStatus.IsTerminal(job.Status)) return job;
        var updated = held
            ? Query(c, "UPDATE jobs SET cancel_requested = true WHERE id = @id RETURNING *", JobRows.ReadJob, ("id", jobId)).Single()
            : Query(c, $"""
                UPDATE jobs SET cancel_requested = true, status = '{JobStatus.Cancelled}', finished_at = @now, lease_owner = NULL, lease_expires = NULL
                WHERE id = @id RETURNING *
                """, JobRows.ReadJob, ("id", jobId), ("now", JobStore.Now)).Single();
        if (!held) InsertEvent(c, jobId, "info", "Job cancelled", "message", null);
        transaction.Commit();
        return updated;
    }

    // ---- events ----

    /// <inheritdoc />
    public void AddEvent(string jobId, string level, string message, string type = "message", object? data = null)
    {
        using var c = _source.OpenConnection();
        InsertEvent(c, jobId, level, message, type, data is null ? null : JobRows.ToJson(data));
    }

    /// <inheritdoc />
    public (IReadOnlyList<JobEvent> Events, bool HasMore) ListEvents(string jobId, string? after, int limit)
    {
        using var c = _source.OpenConnection();
        var rows = Query(c, """
            SELECT * FROM job_events WHERE job_id = @job AND (@after::text IS NULL OR seq < COALESCE((SELECT seq FROM job_events WHERE id = @after::text), -1))
            ORDER BY seq DESC LIMIT @limit
            """, JobRows.ReadEvent, ("job", jobId), ("after", after), ("limit", limit + 1));
        return (rows.Take(limit).ToList(), rows.Count > limit);
    }

    /// <inheritdoc />
    public IReadOnlyList<JobEvent> EventsSince(string jobId, long afterSequence)
    {
        using var c = _source.OpenConnection();
        return Query(c, "SELECT * FROM job_events WHERE job_id = @job AND seq > @after ORDER BY seq", JobRows.ReadEvent, ("job", jobId), ("after", afterSequence));
    }

    /// <summary>Closes the pooled connections.</summary>
    public void Dispose() => _source.Dispose();

    // ---- plumbing ----

    private bool UpdateLeased(string jobId, string owner, string assignments, params (string, object?)[] parameters) =>
        UpdateLeased(jobId, owner, null, assignments, parameters);

    // A finishing transition and its closing event commit together (or neither, when the lease is no longer held).
    private bool UpdateLeased(string jobId, string owner, (string Level, string Message)? closingEvent, string assignments, params (string, object?)[] parameters)
    {
        using var c = _source.OpenConnection();
        using var transaction = c.BeginTransaction();
        bool updated = Execute(c, $"UPDATE jobs SET {assignments} WHERE id = @id AND lease_owner = @owner AND status IN {Live}",
            [.. parameters, ("id", jobId), ("owner", owner)]) == 1;
        if (updated && closingEvent is { } e) InsertEvent(c, jobId, e.Level, e.Message, "message", null);
        transaction.Commit();
        return updated;
    }

    private static void InsertEvent(NpgsqlConnection c, string jobId, string level, string message, string type, string? data) =>
        Execute(c, "INSERT INTO job_events (id, job_id, created_at, level, message, type, data) VALUES (@id, @job, @created, @level, @message, @type, @data)",
            ("id", JobStore.NewId("ftevent")), ("job", jobId), ("created", JobStore.Now), ("level", level), ("message", message), ("type", type), ("data", data));

    internal static int Execute(NpgsqlConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }

    internal static List<T> Query<T>(NpgsqlConnection connection, string sql, Func<DbDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(read(reader));
        return rows;
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            // A null string still needs a type for PostgreSQL to plan with.
            command.Parameters.Add(value is null ? new NpgsqlParameter(name, NpgsqlTypes.NpgsqlDbType.Text) { Value = DBNull.Value } : new NpgsqlParameter(name, value));
        }
        return command;
    }
}
