using GenAI.Core.Checkpoints;
namespace GenAI.Training.Jobs;

/// <summary>An upload is larger than the limit.</summary>
public sealed class FileTooLargeException(long limit) : Exception($"the file exceeds the upload limit of {limit} bytes")
{
    /// <summary>The limit in bytes.</summary>
    public long Limit { get; } = limit;
}

/// <summary>
/// Uploaded files: content under <c>&lt;data root&gt;/files/</c> (written aside, flushed, then renamed into place) and
/// a row in the <see cref="IJobStore"/>. Only content the training data reader accepts is kept.
/// </summary>
public sealed class FileStore(IJobStore store)
{
    /// <summary>The one purpose we accept (OpenAI's spelling).</summary>
    public const string FineTunePurpose = "fine-tune";

    private const string Folder = "files";

    /// <summary>
    /// Stores <paramref name="content"/> as a new file. Throws <see cref="ArgumentException"/> (ParamName <c>purpose</c>)
    /// for a purpose other than fine-tune, <see cref="FileTooLargeException"/> past <paramref name="maxBytes"/>, and
    /// <see cref="InvalidDataException"/> (naming the line) when the content is not training data.
    /// </summary>
    public async Task<StoredFile> SaveAsync(Stream content, string filename, string purpose, long maxBytes, CancellationToken cancellation)
    {
        if (purpose != FineTunePurpose) throw new ArgumentException($"purpose must be '{FineTunePurpose}', not '{purpose}'", "purpose");
        string folder = Path.Combine(store.DataRoot, Folder);
        Directory.CreateDirectory(folder);
        string id = JobStore.NewId("file");
        string extension = SafeExtension(filename);
        string temp = Path.Combine(folder, $".upload-{Guid.NewGuid():N}{extension}");
        try
        {
            long bytes = 0;
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellation).ConfigureAwait(false)) > 0)
                {
                    bytes += read;
                    if (bytes > maxBytes) throw new FileTooLargeException(maxBytes);
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellation).ConfigureAwait(false);
                }
                output.Flush(flushToDisk: true);
            }
            IReadOnlyList<TrainingDocument> documents;
            try
            {
                documents = TrainingData.ReadDocuments(temp);
            }
            catch (TrainingDataException e)
            {
                // Name the client's file, not the temporary one.
                throw new InvalidDataException(e.Line is int line ? $"{Path.GetFileName(filename)} line {line}: {e.Problem}" : $"{Path.GetFileName(filename)}: {e.Problem}", e);
            }
            if (documents.Count == 0 || documents.All(d => string.IsNullOrWhiteSpace(d.Text))) throw new InvalidDataException("the file holds no training text");
            string relative = Path.Combine(Folder, id + extension);
            File.Move(temp, Path.Combine(store.DataRoot, relative));
            DurableFiles.FlushDirectory(folder); // the content is on disk before the row that names it
            var file = new StoredFile(id, Path.GetFileName(filename), purpose, bytes, JobStore.Now, relative);
            store.AddFile(file);
            return file;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>The absolute path of a stored file's content.</summary>
    public string PathOf(StoredFile file) => Path.Combine(store.DataRoot, file.Path);

    /// <summary>Deletes the file and its content; false when there was none.</summary>
    public bool Delete(string id)
    {
        var file = store.DeleteFile(id);
        if (file is null) return false;
        File.Delete(PathOf(file));
        return true;
    }

    /// <summary>The extension (the data reader tells JSONL from text by it), when it is a plain one.</summary>
    private static string SafeExtension(string filename)
    {
        string extension = Path.GetExtension(filename).ToLowerInvariant();
        return extension.Length is > 1 and <= 10 && extension[1..].All(char.IsAsciiLetterOrDigit) ? extension : "";
    }
}
