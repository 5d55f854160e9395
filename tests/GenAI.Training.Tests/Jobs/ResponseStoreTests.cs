using GenAI.Training.Jobs;

namespace GenAI.Training.Tests.Jobs;

/// <summary>
/// Stored responses: save, read, delete, and the previous_response_id chain, on both databases (<see cref="SqliteResponseStoreTests"/>,
/// <see cref="PostgresResponseStoreTests"/>).
/// </summary>
public abstract class ResponseStoreTests : IDisposable
{
    protected readonly string _root = Path.Combine(Path.GetTempPath(), "genai-responses-" + Guid.NewGuid().ToString("N"));

    protected string Database => Path.Combine(_root, JobStore.FileName);

    /// <summary>A store on this test's database (each call a new instance, as a new process would open it).</summary>
    protected abstract IResponseStore Open();

    protected static StoredResponse Response(string id, string? previous, long createdAt = 1) =>
        new(id, createdAt, "gpt2-tiny", previous, "completed", $$"""[{"type":"message","id":"in-{{id}}"}]""", $$"""{"id":"{{id}}"}""");

    [SkippableFact]
    public void GetDeleteAndTheChainOldestFirst()
    {
        using var store = Open();
        Assert.Null(store.Get("resp_a"));
        Assert.Empty(store.Chain("resp_a"));
        store.Save(Response("resp_a", null, 1));
        store.Save(Response("resp_b", "resp_a", 2));
        store.Save(Response("resp_c", "resp_b", 3));
        store.Save(Response("resp_x", "resp_a", 4)); // a branch: b and x both continue a

        Assert.Equal(["resp_a", "resp_b", "resp_c"], store.Chain("resp_c").Select(r => r.Id));
        Assert.Equal(["resp_a", "resp_x"], store.Chain("resp_x").Select(r => r.Id));
        Assert.Equal(["resp_a"], store.Chain("resp_a").Select(r => r.Id));
        Assert.ThrowsAny<System.Data.Common.DbException>(() => store.Save(Response("resp_a", null))); // ids are unique

        Assert.True(store.Delete("resp_b"));
        Assert.False(store.Delete("resp_b"));
        Assert.Null(store.Get("resp_b"));
        // The chain stops at the gap; its first response still names the deleted one.
        var broken = store.Chain("resp_c");
        Assert.Equal("resp_c", Assert.Single(broken).Id);
        Assert.Equal("resp_b", broken[0].PreviousResponseId);
    }

    public virtual void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}

/// <summary>Stored responses in the job store's SQLite database, created on first use beside the job tables.</summary>
public sealed class SqliteResponseStoreTests : ResponseStoreTests
{
    protected override IResponseStore Open() => JobStoreConnection.Parse(null, _root).OpenResponseStore();

    [Fact]
    public void NothingIsCreatedUntilFirstUseThenTheTableSitsBesideTheJobStoresTables()
    {
        using (var unused = new SqliteResponseStore(Database)) Assert.False(Directory.Exists(_root));

        // The job store's database, already there with its own tables (SQL here, so the test does not depend on which
        // job store class writes them).
        Directory.CreateDirectory(_root);
        using (var jobs = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Database}"))
        {
            jobs.Open();
            using var create = jobs.CreateCommand();
            create.CommandText = "CREATE TABLE jobs (id TEXT PRIMARY KEY); INSERT INTO jobs VALUES ('ftjob-1');";
            create.ExecuteNonQuery();
        }
        using (var store = new SqliteResponseStore(Database)) store.Save(Response("resp_a", null));
        // A second server opening the same database (the migration runs again) sees the response; the jobs are untouched.
        using var again = new SqliteResponseStore(Database);
        Assert.Equal(Response("resp_a", null), again.Get("resp_a"));
        using var check = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Database}");
        check.Open();
        using var count = check.CreateCommand();
        count.CommandText = "SELECT count(*) FROM jobs";
        Assert.Equal(1L, count.ExecuteScalar());
    }
}

/// <summary>Stored responses in PostgreSQL (a fresh schema per test), beside the job store's tables and migrated with them.</summary>
public sealed class PostgresResponseStoreTests : ResponseStoreTests
{
    private string? _database;

    protected override IResponseStore Open()
    {
        _database ??= PostgresServer.Require().CreateDatabase();
        return JobStoreConnection.Parse(_database, _root).OpenResponseStore();
    }

    [SkippableFact]
    public void ResponsesAndJobsShareOneSchemaWhicheverStoreOpensFirst()
    {
        using (var responses = (PostgresResponseStore)Open()) responses.Save(Response("resp_a", null));
        using (var jobs = JobStoreConnection.Parse(_database, _root).OpenJobStore(_root)) Assert.Empty(jobs.ListFiles());
        using var again = (PostgresResponseStore)Open();
        Assert.Equal(Response("resp_a", null), again.Get("resp_a"));
    }

    public override void Dispose()
    {
        if (_database is not null) PostgresServer.Shared.DropDatabase(_database);
        base.Dispose();
    }
}
