using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace GenAI.Server.Tests;

/// <summary>The real server process (the built GenAI.Server.dll) on a free 127.0.0.1 port; killed on dispose.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private ServerProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public string Output
    {
        get
        {
            lock (_output) return string.Join('\n', _output);
        }
    }

    public static Task<ServerProcess> StartAsync(string dll, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        int port = FreePort();
        var start = new ProcessStartInfo("dotnet");
        start.ArgumentList.Add(dll);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        return StartAsync(start, new Uri($"http://127.0.0.1:{port}"));
    }

    /// <summary>Starts a server exactly as <paramref name="start"/> says (it must listen at <paramref name="baseAddress"/>) and waits until it is ready.</summary>
    public static async Task<ServerProcess> StartAsync(ProcessStartInfo start, Uri baseAddress)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start) ?? throw new InvalidOperationException("the server process did not start");
        var server = new ServerProcess(process, baseAddress);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (server._output) server._output.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (server._output) server._output.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        }
        catch
        {
            await server.DisposeAsync(); // a server that never became ready must not outlive the test
            throw;
        }
        return server;
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the server exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var response = await client.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"the server was not ready within {timeout}:\n{Output}");
    }

    /// <summary>A TCP port nothing listens on at the moment (on 127.0.0.1).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
