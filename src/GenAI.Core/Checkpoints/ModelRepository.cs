using System.Globalization;
using System.Text.RegularExpressions;
using GenAI.Core.Models;

namespace GenAI.Core.Checkpoints;

/// <summary>A revision written by <see cref="ModelRepository.Publish"/>.</summary>
/// <param name="Name">The model's name (its folder under the root).</param>
/// <param name="Revision">The revision's name, <c>rev-NNNN</c>.</param>
/// <param name="Folder">The revision's folder, in Hugging Face layout; never written again.</param>
public sealed record PublishedRevision(string Name, string Revision, string Folder);

/// <summary>Where a model folder's weights are now: its current revision, or the folder itself.</summary>
/// <param name="Folder">The folder in Hugging Face layout to load.</param>
/// <param name="Revision">The revision's name, or null for a plain Hugging Face folder.</param>
public sealed record ModelLocation(string Folder, string? Revision);

/// <summary>
/// A models root: each sub-folder is a model, either a plain Hugging Face folder or a folder of revisions
/// (<c>revisions/rev-0001</c>, <c>revisions/rev-0002</c>, ...) with a <c>current</c> file naming the one to serve.
/// Publishing writes the new revision aside, flushes it, renames it into place and then swaps <c>current</c>
/// atomically, so a reader never sees a half-written revision and a crash mid-publish leaves the previous one current.
/// </summary>
public sealed partial class ModelRepository
{
    /// <summary>The sub-folder holding a model's revisions.</summary>
    public const string RevisionsFolder = "revisions";

    /// <summary>The file naming a model's current revision.</summary>
    public const string CurrentPointer = "current";

    private const string StagingPrefix = ".staging-";
    private const string LockFile = ".publish.lock";

    /// <summary>A repository over <paramref name="root"/> (created on the first publish).</summary>
    public ModelRepository(string root) => Root = Path.GetFullPath(root);

    /// <summary>The models root folder.</summary>
    public string Root { get; }

    /// <summary>True when <paramref name="name"/> can be a model's name: 1–128 of <c>A-Z a-z 0-9 . _ -</c>, not starting with a dot or dash.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>The folder of the model <paramref name="name"/>.</summary>
    public string ModelFolder(string name) => IsValidName(name)
        ? Path.Combine(Root, name)
        : throw new ArgumentException($"'{name}' is not a valid model name (1-128 of A-Z a-z 0-9 . _ -, not starting with . or -)", nameof(name));

    /// <summary>Names of the models under the root (plain folders and revisioned ones), sorted.</summary>
    public IReadOnlyList<string> ModelNames() => !Directory.Exists(Root)
        ? []
        : Directory.EnumerateDirectories(Root)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(n => IsValidName(n) && IsModelFolder(Path.Combine(Root, n)))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>True when <paramref name="folder"/> is a plain model folder or has a current revision.</summary>
    public static bool IsModelFolder(string folder) =>
        File.Exists(Path.Combine(folder, ModelConfig.FileName)) || File.Exists(Path.Combine(folder, CurrentPointer));

    /// <summary>
    /// What to load for the model folder <paramref name="folder"/>: its current revision, or the folder itself when it
    /// is a plain Hugging Face folder; null when it holds neither. Throws <see cref="CheckpointException"/> when
    /// <c>current</c> names a revision that is not there.
    /// </summary>
    public static ModelLocation? Locate(string folder)
    {
        string pointer = Path.Combine(folder, CurrentPointer);
        if (File.Exists(pointer))
        {
            string revision = File.ReadAllText(pointer).Trim();
            string revisionFolder = Path.Combine(folder, RevisionsFolder, revision);
            if (!RevisionPattern().IsMatch(revision) || !Directory.Exists(revisionFolder))
            {
                throw new CheckpointException(pointer, null, $"names revision '{revision}', which is not in {RevisionsFolder}/");
            }
            return new ModelLocation(revisionFolder, revision);
        }
        return File.Exists(Path.Combine(folder, ModelConfig.FileName)) ? new ModelLocation(folder, null) : null;
    }

    /// <summary>The revisions of <paramref name="name"/>, oldest first.</summary>
    public IReadOnlyList<string> Revisions(string name)
    {
        string folder = Path.Combine(ModelFolder(name), RevisionsFolder);
        return Directory.Exists(folder)
            ? Directory.EnumerateDirectories(folder).Select(Path.GetFileName).OfType<string>()
                .Where(r => RevisionPattern().IsMatch(r)).OrderBy(RevisionNumber).ToList()
            : [];
    }

    /// <summary>
    /// Publishes the model folder <paramref name="source"/> as the next revision of <paramref name="name"/> and makes it
    /// current. With <paramref name="validate"/> (the default) the folder must load and pass
    /// <see cref="ModelCheck.Run(string)"/> first; a broken folder is refused with the reason and nothing is written.
    /// Publishers of the same model take turns (a lock file); readers need no lock.
    /// </summary>
    public PublishedRevision Publish(string name, string source, bool validate = true)
    {
        string modelFolder = ModelFolder(name);
        source = Path.GetFullPath(source);
        if (!File.Exists(Path.Combine(source, ModelConfig.FileName)))
        {
            throw new CheckpointException(source, null, $"is not a model folder (no {ModelConfig.FileName})");
        }
        if (validate) ModelCheck.Run(source);

        Directory.CreateDirectory(modelFolder);
        if (File.Exists(Path.Combine(modelFolder, ModelConfig.FileName)) && !File.Exists(Path.Combine(modelFolder, CurrentPointer)))
        {
            throw new CheckpointException(modelFolder, null,
                "is a plain model folder; publish under another name, or move its files into revisions/rev-0001 and write 'rev-0001' to 'current'");
        }
        using var publishLock = AcquireLock(Path.Combine(modelFolder, LockFile));
        foreach (string stale in Directory.EnumerateDirectories(modelFolder, StagingPrefix + "*")) Directory.Delete(stale, recursive: true);

        string staging = Path.Combine(modelFolder, StagingPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            DurableFiles.CopyFolder(source, staging);
            string revisions = Path.Combine(modelFolder, RevisionsFolder);
            Directory.CreateDirectory(revisions);
            int next = Revisions(name).Select(RevisionNumber).DefaultIfEmpty(0).Max() + 1;
            string revision = $"rev-{next.ToString("D4", CultureInfo.InvariantCulture)}";
            string target = Path.Combine(revisions, revision);
            Directory.Move(staging, target);
            DurableFiles.FlushDirectory(revisions);
            DurableFiles.FlushDirectory(modelFolder);
            DurableFiles.WriteAllText(Path.Combine(modelFolder, CurrentPointer), revision + "\n");
            return new PublishedRevision(name, revision, target);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    private static int RevisionNumber(string revision) => int.Parse(revision.AsSpan(4), CultureInfo.InvariantCulture);

    /// <summary>An exclusive lock (flock on Linux) held while the stream is open; waits up to a minute for another publisher.</summary>
    private static FileStream AcquireLock(string path)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^rev-[0-9]{4,9}$")]
    private static partial Regex RevisionPattern();
}
