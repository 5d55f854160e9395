using GenAI.Training.Jobs;
using Npgsql;

namespace GenAI.Training.Tests.Jobs;

/// <summary>The one setting that picks the database: empty, a SQLite path, a PostgreSQL URL or keyword string.</summary>
public sealed class JobStoreConnectionTests
{
    [Fact]
    public void EmptyIsGenaiDbInTheDataRootAndOtherTextIsASqliteFile()
    {
        var empty = JobStoreConnection.Parse(null, "/srv/data");
        Assert.Equal((DatabaseProvider.Sqlite, "/srv/data/genai.db"), (empty.Provider, empty.ConnectionString));
        Assert.Equal(empty, JobStoreConnection.Parse("  ", "/srv/data"));
        Assert.Equal("/srv/data/jobs.sqlite", JobStoreConnection.Parse("jobs.sqlite", "/srv/data").ConnectionString);
        Assert.Equal("/var/lib/genai.db", JobStoreConnection.Parse("/var/lib/genai.db", "/srv/data").ConnectionString);
        Assert.False(JobStoreConnection.Parse("/nowhere/genai.db", "/srv").StoreExists);
    }

    [Fact]
    public void APostgresUrlBecomesNpgsqlKeywordsWithItsPasswordDecoded()
    {
        var url = JobStoreConnection.Parse("postgres://gen%40ai:p%3Ass%2Fword@db.internal:6432/jobs?sslmode=require&Timeout=7", "/srv/data");
        Assert.Equal(DatabaseProvider.Postgres, url.Provider);
        var keywords = new NpgsqlConnectionStringBuilder(url.ConnectionString);
        Assert.Equal(("db.internal", 6432, "gen@ai", "p:ss/word", "jobs"), (keywords.Host, keywords.Port, keywords.Username, keywords.Password, keywords.Database));
        Assert.Equal(SslMode.Require, keywords.SslMode);
        Assert.Equal(7, keywords.Timeout);
        Assert.True(url.StoreExists);
        Assert.Equal("PostgreSQL db.internal:6432/jobs", url.ToString()); // logs never show the password

        Assert.Equal(DatabaseProvider.Postgres, JobStoreConnection.Parse("postgresql://localhost/genai", "/d").Provider);
        var words = JobStoreConnection.Parse("Host=10.0.0.5;Username=genai;Password=x;Database=genai", "/d");
        Assert.Equal((DatabaseProvider.Postgres, "10.0.0.5"), (words.Provider, new NpgsqlConnectionStringBuilder(words.ConnectionString).Host));
    }

    [Fact]
    public void AMalformedPostgresSettingNamesTheProblem()
    {
        Assert.Contains("'nonsense'", Assert.Throws<ArgumentException>(() => JobStoreConnection.Parse("postgres://h/db?nonsense=1", "/d")).Message);
        Assert.Contains("not valid", Assert.Throws<ArgumentException>(() => JobStoreConnection.Parse("Host=h;Port=notanumber", "/d")).Message);
    }
}
