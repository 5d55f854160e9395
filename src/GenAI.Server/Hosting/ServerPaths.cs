namespace GenAI.Server.Hosting;

/// <summary>Paths from settings (models, models root, data root): relative ones are taken from the working directory, as a user typing them expects.</summary>
public static class ServerPaths
{
    public static string Resolve(string path) => Path.GetFullPath(path, Environment.CurrentDirectory);
}
