using GenAI.Server.Api;
using GenAI.Training.Jobs;
using Microsoft.Extensions.Options;

namespace GenAI.Server.Hosting;

/// <summary>
/// The job store (<see cref="ServerOptions.JobStore"/>) and file store in <see cref="ServerOptions.DataRoot"/>, opened
/// on first use: a server nobody uploads to creates no data folder. Lookups throw the API's 404s.
/// </summary>
public sealed class JobStores(IOptions<ServerOptions> options) : IDisposable
{
    private readonly Lazy<IJobStore> _store = new(() => Connection(options.Value).OpenJobStore(ServerPaths.Resolve(options.Value.DataRoot)));
    private FileStore? _files;

    /// <summary>The database the settings name (the one place the server reads <see cref="ServerOptions.JobStore"/>).</summary>
    public static JobStoreConnection Connection(ServerOptions options) =>
        JobStoreConnection.Parse(options.JobStore, ServerPaths.Resolve(options.DataRoot));

    public IJobStore Store => _store.Value;

    /// <summary>
    /// Checks the setting, and opens a PostgreSQL store at start-up (migrating its schema): a replica that cannot reach
    /// its database fails at once with the reason, not at its first request. The SQLite file still waits for first use.
    /// </summary>
    public void OpenSharedStore()
    {
        if (Connection(options.Value).Provider == DatabaseProvider.Postgres) _ = Store;
    }

    public FileStore Files => _files ??= new FileStore(Store);

    public StoredFile Find(string id) => Store.GetFile(id) ?? throw FileNotFound(id);

    public JobRecord FindJob(string id) => Store.GetJob(id) ?? throw ApiException.NotFound($"no fine-tuning job with id '{id}'", "fine_tuning_job_id", "job_not_found");

    public static ApiException FileNotFound(string id) => ApiException.NotFound($"no file with id '{id}'", "file_id", "file_not_found");

    public void Dispose()
    {
        if (_store.IsValueCreated) _store.Value.Dispose();
    }
}
