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
        SqliteJobStore.Execute(c, """
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
        return SqliteJobStore.Execute(c, "DELETE FROM responses WHERE id = $id", ("$id", id)) == 1;
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
        string connectionString = SqliteJobStore.ConnectionString(path);
        using var c = SqliteJobStore.Open(connectionString);
        SqliteJobStore.Execute(c, Schema);
        return connectionString;
    }

    private SqliteConnection Open() => SqliteJobStore.Open(_connectionString.Value);

    private List<StoredResponse> Query(string sql, string id)
    {
        using var c = Open();
        return SqliteJobStore.Query(c, sql, JobRows.ReadResponse, ("$id", id));
    }
}
