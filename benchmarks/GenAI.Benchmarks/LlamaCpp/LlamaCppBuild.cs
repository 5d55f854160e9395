using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace GenAI.Benchmarks.LlamaCpp;

/// <summary>
/// A llama.cpp CPU build's tools (<c>llama-bench</c>, <c>llama-server</c>, <c>llama-quantize</c>) in one folder, e.g.
/// <c>llama.cpp/build/bin</c>; every run uses <see cref="Threads"/> threads.
/// </summary>
internal sealed class LlamaCppBuild
{
    private readonly string _folder;

    public LlamaCppBuild(string folder, int threads)
    {
        _folder = Path.GetFullPath(folder);
        Threads = threads;
        foreach (string tool in new[] { "llama-bench", "llama-server", "llama-quantize" })
        {
            if (!File.Exists(Tool(tool)))
            {
                throw new FileNotFoundException($"{Tool(tool)} not found: build llama.cpp's llama-bench, llama-server and llama-quantize (see the README's Benchmarks section) and pass --llama-cpp <build/bin>");
            }
        }
    }

    public int Threads { get; }

    /// <summary>One llama-bench test (pp128 or tg128) of one model: its tokens/s per repetition.</summary>
    public sealed record BenchResult(string Model, int PromptTokens, int GeneratedTokens, Figure TokensPerSecond, string BuildCommit);

    /// <summary><c>llama-quantize input output type</c>, e.g. Q8_0 from an F32 file.</summary>
    public void Quantize(string input, string output, string type) =>
        Run("llama-quantize", [input, output, type, Threads.ToString(CultureInfo.InvariantCulture)]);

    /// <summary>
    /// <c>llama-bench -p prompt -n generate -r repetitions -t threads -o json</c> over <paramref name="models"/> in one
    /// process (models one after another; llama-bench warms each test up before its repetitions).
    /// </summary>
    public List<BenchResult> Bench(IEnumerable<string> models, int prompt, int generate, int repetitions)
    {
        var arguments = new List<string> { "-p", $"{prompt}", "-n", $"{generate}", "-r", $"{repetitions}", "-t", $"{Threads}", "-o", "json" };
        foreach (string model in models) arguments.AddRange(["-m", model]);
        string json = Run("llama-bench", arguments);
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().Select(test => new BenchResult(
            test.GetProperty("model_filename").GetString()!,
            test.GetProperty("n_prompt").GetInt32(),
            test.GetProperty("n_gen").GetInt32(),
            Figure.Rate(test.GetProperty("samples_ts").EnumerateArray().Select(s => s.GetDouble())),
            test.GetProperty("build_commit").GetString() ?? "")).ToList();
    }

    /// <summary>
    /// <c>llama-server</c> on <paramref name="model"/> with <paramref name="slots"/> parallel slots of
    /// <paramref name="slotContext"/> positions each (<c>-np slots -c slots×slotContext</c>), continuous batching.
    /// </summary>
    public ServerProcess StartServer(string model, int slots, int slotContext)
    {
        int port = ServerProcess.FreePort();
        return ServerProcess.Start(Tool("llama-server"),
        [
            "-m", model, "--host", "127.0.0.1", "--port", $"{port}", "-np", $"{slots}", "-c", $"{slots * slotContext}",
            "-t", $"{Threads}", "-tb", $"{Threads}", "--no-webui",
        ], port, "/health");
    }

    private string Tool(string name) => Path.Combine(_folder, name);

    /// <summary>Runs a tool to completion; its standard output, or an exception with its standard error.</summary>
    private string Run(string tool, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Tool(tool)) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            string log = error.Result;
            throw new InvalidOperationException($"{tool} {string.Join(' ', start.ArgumentList)} exited with {process.ExitCode}:{Environment.NewLine}{log[Math.Max(0, log.Length - 3000)..]}");
        }
        return output;
    }
}
