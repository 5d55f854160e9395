using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace GenAI.Benchmarks;

/// <summary>
/// A server a benchmark starts as its own process on 127.0.0.1 (GenAI's, or llama.cpp's llama-server), waits for until
/// its readiness endpoint answers 2xx, and stops (the whole process tree) when disposed. The last lines of its output
/// are kept for the error when it does not come up.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private const int KeptLines = 40;
    private readonly Queue<string> _lastLines = new();

    private ServerProcess(Process process, Uri baseUri)
    {
        Process = process;
        BaseUri = baseUri;
    }

    public Process Process { get; }

    /// <summary><c>http://127.0.0.1:port</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary>The server's resident memory now (<c>VmRSS</c>).</summary>
    public long ResidentBytes => ServerMemory.ReadResidentBytes(Process.Id);

    /// <summary>GenAI's server (the build beside this benchmark) serving <paramref name="modelFolder"/>, with <paramref name="options"/> added.</summary>
    public static ServerProcess StartGenAI(string modelFolder, params string[] options)
    {
        int port = FreePort();
        string dll = Path.Combine(AppContext.BaseDirectory, "GenAI.Server.dll");
        return Start("dotnet", [dll, "--model", modelFolder, "--urls", $"http://127.0.0.1:{port}", .. options], port, "/health/ready");
    }

    /// <summary>Starts <paramref name="fileName"/> listening on <paramref name="port"/> and waits until <paramref name="readyPath"/> answers 2xx.</summary>
    public static ServerProcess Start(string fileName, IEnumerable<string> arguments, int port, string readyPath, int timeoutSeconds = 180)
    {
        var start = new ProcessStartInfo(fileName) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        var server = new ServerProcess(Process.Start(start)!, new Uri($"http://127.0.0.1:{port}"));
        server.Process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        server.Process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        server.Process.BeginOutputReadLine();
        server.Process.BeginErrorReadLine();
        try
        {
            server.WaitReady(readyPath, timeoutSeconds);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>A port nothing listens on now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
        }
        finally
        {
            Process.Dispose();
        }
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_lastLines)
        {
            _lastLines.Enqueue(line);
            if (_lastLines.Count > KeptLines) _lastLines.Dequeue();
        }
    }

    private string LastLines()
    {
        lock (_lastLines) return string.Join(Environment.NewLine, _lastLines);
    }

    private void WaitReady(string readyPath, int timeoutSeconds)
    {
        using var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (DateTime.UtcNow < deadline)
        {
            if (Process.HasExited) throw new InvalidOperationException($"{Process.StartInfo.FileName} exited with {Process.ExitCode}:{Environment.NewLine}{LastLines()}");
            try
            {
                if (http.GetAsync(readyPath).Result.IsSuccessStatusCode) return;
            }
            catch (AggregateException)
            {
            }
            Thread.Sleep(250);
        }
        throw new TimeoutException($"{Process.StartInfo.FileName} did not become ready in {timeoutSeconds} s:{Environment.NewLine}{LastLines()}");
    }
}
