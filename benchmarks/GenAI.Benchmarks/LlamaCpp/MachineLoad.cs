using System.Globalization;

namespace GenAI.Benchmarks.LlamaCpp;

/// <summary>
/// The machine's 1-minute load average, read at each step of a run: on a shared machine a figure means little without
/// it (llama.cpp's spinning OpenMP threads slow down several-fold when another process wants the cores).
/// </summary>
internal sealed class MachineLoad
{
    private readonly List<double> _readings = [];

    /// <summary>Reads the load average now and returns it as "load 1.23".</summary>
    public string Read()
    {
        double load = Current();
        _readings.Add(load);
        return $"load {load.ToString("F2", CultureInfo.InvariantCulture)}";
    }

    /// <summary>"load average 0.9–2.7 over the run (2 cores)".</summary>
    public string Summary() => _readings.Count == 0 ? "" :
        $"load average {_readings.Min().ToString("F1", CultureInfo.InvariantCulture)}–{_readings.Max().ToString("F1", CultureInfo.InvariantCulture)} over the run ({Environment.ProcessorCount} cores)";

    private static double Current()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}
