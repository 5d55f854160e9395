using System.Diagnostics;

namespace GenAI.Benchmarks;

/// <summary>The built server (GenAI.Server.dll beside the benchmarks) running as its own process on a free loopback port.</summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, Uri baseUri)
    {
        _process = process;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public int Id => _process.Id;

    /// <summary>Starts the server on <paramref name="model"/> with <paramref name="extraArguments"/> and waits until it is ready.</summary>
    public static ServerProcess Start(string model, params string[] extraArguments)
    {
        int port = LoadBenchmark.FreePort();
        string dll = Path.Combine(AppContext.BaseDirectory, "GenAI.Server.dll");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { dll, "--model", model, "--urls", $"http://127.0.0.1:{port}" }.Concat(extraArguments)) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}"));
        try
        {
            LoadBenchmark.WaitReady(server.BaseUri, process);
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
    }
}
