using System.Data.Common;
using Npgsql;

namespace GenAI.Training.Jobs;

/// <summary>
/// Stored responses in PostgreSQL, beside the <see cref="PostgresJobStore"/>'s tables in the same database, so that
/// every API replica can read, continue and delete any stored response. The table is the one
/// <see cref="SqliteResponseStore"/> describes; it is created by the shared schema migration when the store opens.
/// </summary>
public sealed class PostgresResponseStore : IResponseStore, IDisposable
{
    // The same recursive walk as SQLite's, with Npgsql's parameter syntax.
    private const string ChainQuery = """
        WITH RECURSIVE chain(depth, id) AS (
            SELECT 0, @id::text
            UNION ALL
            SELECT chain.depth + 1, r.previous_response_id FROM responses r JOIN chain ON r.id = chain.id
            WHERE r.previous_response_id IS NOT NULL)
        SELECT r.* FROM chain JOIN responses r ON r.id = chain.id ORDER BY chain.depth DESC
        """;

    private readonly NpgsqlDataSource _source;

    /// <summary>Connects to the database <paramref name="connectionString"/> names (Npgsql keywords) and brings its schema up to date.</summary>
    public PostgresResponseStore(string connectionString)
    {
        _source = NpgsqlDataSource.Create(connectionString);
        try
        {
            PostgresJobStore.Migrate(_source);
        }
        catch
        {
            _source.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Save(StoredResponse response)
    {
        using var c = _source.OpenConnection();
        PostgresJobStore.Execute(c, """
            INSERT INTO responses (id, created_at, model, previous_response_id, status, input_items, response)
            VALUES (@id, @created, @model, @previous, @status, @input, @response)
            """, ("id", response.Id), ("created", response.CreatedAt), ("model", response.Model), ("previous", response.PreviousResponseId),
            ("status", response.Status), ("input", response.InputItems), ("response", response.Response));
    }

    /// <inheritdoc />
    public StoredResponse? Get(string id)
    {
        using var c = _source.OpenConnection();
        return PostgresJobStore.Query(c, "SELECT * FROM responses WHERE id = @id", JobRows.ReadResponse, ("id", id)).FirstOrDefault();
    }

    /// <inheritdoc />
    public bool Delete(string id)
    {
        using var c = _source.OpenConnection();
        return PostgresJobStore.Execute(c, "DELETE FROM responses WHERE id = @id", ("id", id)) == 1;
    }

    /// <inheritdoc />
    public IReadOnlyList<StoredResponse> Chain(string id)
    {
        using var c = _source.OpenConnection();
        return PostgresJobStore.Query(c, ChainQuery, JobRows.ReadResponse, ("id", id));
    }

    /// <inheritdoc />
    public void Dispose() => _source.Dispose();
}
