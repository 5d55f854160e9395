using System.Diagnostics;
using System.Text;

namespace GenAI.Training.Tests;

/// <summary>The built GenAI.Worker.dll run as real processes; every one started is killed (if still running) and disposed with this.</summary>
internal sealed class WorkerProcesses : IDisposable
{
    private readonly List<Process> _processes = [];

    /// <summary>Starts <c>dotnet GenAI.Worker.dll ARGS</c>, collecting its stdout and stderr.</summary>
    public (Process Process, StringBuilder Output) Start(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "GenAI.Worker.dll"));
        foreach (string arg in args) start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("the worker did not start");
        _processes.Add(process);
        var output = new StringBuilder();
        DataReceivedEventHandler append = (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.OutputDataReceived += append;
        process.ErrorDataReceived += append;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, output);
    }

    public void Dispose()
    {
        foreach (var process in _processes)
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
