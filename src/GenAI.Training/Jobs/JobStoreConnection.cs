using Npgsql;

namespace GenAI.Training.Jobs;

/// <summary>The database engines a store can use.</summary>
public enum DatabaseProvider
{
    /// <summary>An embedded SQLite file (one machine; the default).</summary>
    Sqlite,
    /// <summary>A PostgreSQL server (many API replicas and workers on many machines).</summary>
    Postgres,
}

/// <summary>
/// Which database the durable stores use, read from one setting (<c>GenAI:JobStore</c>, the worker's
/// <c>--job-store</c>): empty means the SQLite file <c>genai.db</c> in the data root; a <c>postgres://</c> or
/// <c>postgresql://</c> URL or an Npgsql keyword string with <c>Host=</c> means PostgreSQL; anything else is the path of
/// a SQLite file. Every store that keeps rows in the database (jobs, files, events; any later one) takes this one
/// value and switches on <see cref="Provider"/>, so one setting moves all of them together.
/// </summary>
public sealed record JobStoreConnection
{
    private JobStoreConnection(DatabaseProvider provider, string connectionString)
    {
        Provider = provider;
        ConnectionString = connectionString;
    }

    /// <summary>SQLite or PostgreSQL.</summary>
    public DatabaseProvider Provider { get; }

    /// <summary>For SQLite the database file's absolute path; for PostgreSQL an Npgsql keyword connection string.</summary>
    public string ConnectionString { get; }

    /// <summary>The SQLite file <c>genai.db</c> in <paramref name="dataRoot"/> (the default).</summary>
    public static JobStoreConnection Default(string dataRoot) =>
        new(DatabaseProvider.Sqlite, Path.GetFullPath(Path.Combine(dataRoot, JobStore.FileName)));

    /// <summary>
    /// Reads the setting (see the type's summary); relative SQLite paths are resolved against <paramref name="dataRoot"/>.
    /// Throws <see cref="ArgumentException"/> naming the problem for a malformed PostgreSQL URL or keyword string.
    /// </summary>
    public static JobStoreConnection Parse(string? setting, string dataRoot)
    {
        string value = setting?.Trim() ?? "";
        if (value.Length == 0) return Default(dataRoot);
        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return new(DatabaseProvider.Postgres, FromUrl(value));
        }
        if (IsKeywordString(value))
        {
            try
            {
                return new(DatabaseProvider.Postgres, new NpgsqlConnectionStringBuilder(value).ConnectionString);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"the PostgreSQL connection string is not valid: {e.Message}", "JobStore", e);
            }
        }
        return new(DatabaseProvider.Sqlite, Path.GetFullPath(value, Path.GetFullPath(dataRoot)));
    }

    /// <summary>Opens (creating or migrating its schema if needed) the job store this connection names.</summary>
    public IJobStore OpenJobStore(string dataRoot) => Provider switch
    {
        DatabaseProvider.Postgres => new PostgresJobStore(ConnectionString, dataRoot),
        _ => new SqliteJobStore(dataRoot, ConnectionString),
    };

    /// <summary>The store of the Responses API's stored responses in the same database (opened on first use for SQLite).</summary>
    public IResponseStore OpenResponseStore() => Provider switch
    {
        DatabaseProvider.Postgres => new PostgresResponseStore(ConnectionString),
        _ => new SqliteResponseStore(ConnectionString),
    };

    /// <summary>
    /// True when the store exists already: a SQLite file is created by the server's first upload, so a worker need not
    /// create one just to find it empty; a PostgreSQL database always exists (its schema is migrated on open).
    /// </summary>
    public bool StoreExists => Provider == DatabaseProvider.Postgres || File.Exists(ConnectionString);

    /// <summary>For logs: the file, or the server and database without the password.</summary>
    public override string ToString()
    {
        if (Provider == DatabaseProvider.Sqlite) return $"SQLite {ConnectionString}";
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        return $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}";
    }

    private static bool IsKeywordString(string value) =>
        value.Split(';').Any(part => part.Split('=', 2) is [var key, _] && key.Trim().Equals("Host", StringComparison.OrdinalIgnoreCase));

    /// <summary><c>postgres://user:password@host:port/database?key=value</c> (libpq's URL form) as Npgsql keywords.</summary>
    private static string FromUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) throw new ArgumentException("the PostgreSQL URL is not valid (postgres://user:password@host:port/database)", "JobStore");
        var builder = new NpgsqlConnectionStringBuilder();
        if (uri.Host.Length > 0) builder.Host = uri.Host;
        if (uri.Port > 0) builder.Port = uri.Port;
        if (uri.UserInfo.Length > 0)
        {
            string[] user = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(user[0]);
            if (user.Length == 2) builder.Password = Uri.UnescapeDataString(user[1]);
        }
        string database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0) builder.Database = database;
        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            string key = Uri.UnescapeDataString(kv[0]), value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            try
            {
                // libpq's names where Npgsql spells them differently; Npgsql's own keywords pass through.
                builder[key.ToLowerInvariant() switch { "sslmode" => "SSL Mode", "user" => "Username", "dbname" => "Database", var k => k }] = value;
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                throw new ArgumentException($"the PostgreSQL URL's parameter '{key}' is not valid: {e.Message}", "JobStore", e);
            }
        }
        return builder.ConnectionString;
    }
}
