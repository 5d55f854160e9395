using Microsoft.Data.Sqlite;

namespace GenAI.Training.Jobs;

/// <summary>
/// Stored responses in a SQLite database — the job store's (<c>&lt;data root&gt;/genai.db</c>) — in table
/// <c>responses</c>: <c>id</c> (primary key), <c>created_at</c>, <c>model</c>, <c>previous_response_id</c>,
/// <c>status</c>, <c>input_items</c> and <c>response</c> (JSON text). The database is opened, and the table created if
/// missing, on first use (a server nobody stores a response on creates nothing); the migration is idempotent, so any
/// number of servers may open the same database, new or old, alongside the job store.
/// </summary>
public sealed class SqliteResponseStore : IResponseStore, IDisposable
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS responses (
            id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, model TEXT NOT NULL, previous_response_id TEXT,
            status TEXT NOT NULL, input_items TEXT NOT NULL, response TEXT NOT NULL);
        """;

    // The chain walks previous_response_id with a recursive query (standard SQL: PostgreSQL runs it as written).
    private const string ChainQuery = """
        WITH RECURSIVE chain(depth, id) AS (
            SELECT 0, $id
            UNION ALL
            SELECT chain.depth + 1, r.previous_response_id FROM responses r JOIN chain ON r.id = chain.id
            WHERE r.previous_response_id IS NOT NULL)
        SELECT r.* FROM chain JOIN responses r ON r.id = chain.id ORDER BY chain.depth DESC
        """;

    private readonly Lazy<string> _connectionString;

    /// <summary>The store in the SQLite database file <paramref name="databasePath"/> (created on first use when missing).</summary>
    public SqliteResponseStore(string databasePath)
    {
        string path = Path.GetFullPath(databasePath);
        _connectionString = new Lazy<string>(() => Migrate(path));
    }

    /// <inheritdoc />
    public void Save(StoredResponse response)
    {
        using var c = Open();
        Execute(c, """
            INSERT INTO responses (id, created_at, model, previous_response_id, status, input_items, response)
            VALUES ($id, $created, $model, $previous, $status, $input, $response)
            """, ("$id", response.Id), ("$created", response.CreatedAt), ("$model", response.Model), ("$previous", response.PreviousResponseId),
            ("$status", response.Status), ("$input", response.InputItems), ("$response", response.Response));
    }

    /// <inheritdoc />
    public StoredResponse? Get(string id) => Query("SELECT * FROM responses WHERE id = $id", id).FirstOrDefault();

    /// <inheritdoc />
    public bool Delete(string id)
    {
        using var c = Open();
        return Execute(c, "DELETE FROM responses WHERE id = $id", ("$id", id)) == 1;
    }

    /// <inheritdoc />
    public IReadOnlyList<StoredResponse> Chain(string id) => Query(ChainQuery, id);

    /// <summary>Returns pooled connections, so the database file can be deleted.</summary>
    public void Dispose()
    {
        if (!_connectionString.IsValueCreated) return;
        using var c = new SqliteConnection(_connectionString.Value);
        SqliteConnection.ClearPool(c);
    }

    private static string Migrate(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // The job store's settings: WAL, pooled, and a wait for another process's write lock rather than a failure.
        string connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30,
        }.ToString();
        using var c = Open(connectionString);
        Execute(c, "PRAGMA journal_mode = WAL;");
        Execute(c, Schema);
        return connectionString;
    }

    private SqliteConnection Open() => Open(_connectionString.Value);

    private static SqliteConnection Open(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout = 10000;");
        return connection;
    }

    private List<StoredResponse> Query(string sql, string id)
    {
        using var c = Open();
        using var command = Command(c, sql, ("$id", id));
        using var reader = command.ExecuteReader();
        var rows = new List<StoredResponse>();
        while (reader.Read())
        {
            rows.Add(new StoredResponse((string)reader["id"], (long)reader["created_at"], (string)reader["model"], reader["previous_response_id"] as string,
                (string)reader["status"], (string)reader["input_items"], (string)reader["response"]));
        }
        return rows;
    }

    private static int Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}
