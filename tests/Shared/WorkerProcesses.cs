using System.Diagnostics;
using System.Text;

namespace GenAI.Tests.Shared;

/// <summary>
/// GenAI.Worker.dll run as real processes; every one started is killed (if still running) and disposed with this.
/// <paramref name="workerDll"/>: the worker to run (by default the one copied beside the test assembly).
/// </summary>
internal sealed class WorkerProcesses(string? workerDll = null) : IDisposable
{
    private readonly string _workerDll = workerDll ?? Path.Combine(AppContext.BaseDirectory, "GenAI.Worker.dll");
    private readonly List<(Process Process, StringBuilder Output)> _started = [];

    /// <summary>The processes started so far, in order, with what each wrote (lock the builder to read it).</summary>
    public IReadOnlyList<(Process Process, StringBuilder Output)> Started => _started;

    /// <summary>Starts <c>dotnet GenAI.Worker.dll ARGS</c> with <paramref name="environment"/> added, collecting its stdout and stderr.</summary>
    public (Process Process, StringBuilder Output) Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(_workerDll);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("the worker did not start");
        var output = new StringBuilder();
        _started.Add((process, output));
        DataReceivedEventHandler append = (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.OutputDataReceived += append;
        process.ErrorDataReceived += append;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, output);
    }

    public void Dispose()
    {
        foreach (var (process, _) in _started)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
            process.Dispose();
        }
    }
}
