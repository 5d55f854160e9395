using GenAI.Server.Api;
using GenAI.Training.Jobs;
using Microsoft.Extensions.Options;

namespace GenAI.Server.Hosting;

/// <summary>
/// The job store and file store in <see cref="ServerOptions.DataRoot"/>, opened on first use: a server nobody uploads
/// to creates no data folder. Lookups throw the API's 404s.
/// </summary>
public sealed class JobStores(IOptions<ServerOptions> options) : IDisposable
{
    private readonly Lazy<JobStore> _store = new(() => new JobStore(ServerPaths.Resolve(options.Value.DataRoot)));
    private FileStore? _files;

    public JobStore Store => _store.Value;

    public FileStore Files => _files ??= new FileStore(Store);

    public StoredFile Find(string id) => Store.GetFile(id) ?? throw FileNotFound(id);

    public JobRecord FindJob(string id) => Store.GetJob(id) ?? throw ApiException.NotFound($"no fine-tuning job with id '{id}'", "fine_tuning_job_id", "job_not_found");

    public static ApiException FileNotFound(string id) => ApiException.NotFound($"no file with id '{id}'", "file_id", "file_not_found");

    public void Dispose()
    {
        if (_store.IsValueCreated) _store.Value.Dispose();
    }
}
