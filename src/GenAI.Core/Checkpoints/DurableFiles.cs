using System.Runtime.InteropServices;

namespace GenAI.Core.Checkpoints;

/// <summary>
/// File operations that survive a crash or power loss: data is flushed to disk before it is renamed into place,
/// and the directory holding a rename is flushed too, so a reader sees the old state or the new one, never a mix.
/// </summary>
public static partial class DurableFiles
{
    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> through a flushed temporary file and a rename.</summary>
    public static void WriteAllText(string path, string text)
    {
        string temp = $"{path}.tmp-{Guid.NewGuid():N}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(text);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            FlushDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Copies the file <paramref name="source"/> to <paramref name="path"/> through a flushed temporary file and a rename.</summary>
    public static void CopyFile(string source, string path)
    {
        string temp = $"{path}.tmp-{Guid.NewGuid():N}";
        try
        {
            using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
            using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                input.CopyTo(output, 1 << 20);
                output.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            FlushDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Copies the folder <paramref name="source"/> (recursively) to the new folder <paramref name="target"/>, every file flushed to disk.</summary>
    public static void CopyFolder(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (string file in Directory.EnumerateFiles(source))
        {
            string destination = Path.Combine(target, Path.GetFileName(file));
            using (var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
            using (var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                input.CopyTo(output, 1 << 20);
                output.Flush(flushToDisk: true);
            }
        }
        foreach (string folder in Directory.EnumerateDirectories(source))
        {
            CopyFolder(folder, Path.Combine(target, Path.GetFileName(folder)));
        }
        FlushDirectory(target);
    }

    /// <summary>Flushes a file written by other code (a library's save) to disk.</summary>
    public static void FlushFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Flushes a directory's entries (new names, renames) to disk; a no-op where the OS has no such call.</summary>
    public static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        int fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return;
        try
        {
            _ = Fsync(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
