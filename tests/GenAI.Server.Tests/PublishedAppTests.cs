using System.Diagnostics;
using System.Text.RegularExpressions;
using GenAI.Server.Tests.Container;
using Xunit.Abstractions;

namespace GenAI.Server.Tests;

/// <summary>
/// The container image without Docker: publishes the server with the Dockerfile's own publish command, lays it out
/// as the image does (a temp folder stands for the container's root, so /app/server, /models and /data map into it),
/// and runs it with the Dockerfile's ENTRYPOINT, WORKDIR and ENV, then its HEALTHCHECK command. Only the port
/// changes, as `docker run -p` would: a free port, on 127.0.0.1 only.
/// </summary>
public sealed class PublishedAppTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), "genai-published-" + Guid.NewGuid().ToString("N"));

    private string ContainerPath(string path) => Path.Combine(_temp, "root", path.TrimStart('/'));

    [Fact]
    public async Task ServesACompletionWithTheDockerfilesEntrypointAndEnvironment()
    {
        var image = DockerfileImage.Load(Path.Combine(TestPaths.RepoRoot, "Dockerfile")); // default build args: the CPU variant

        // The entry point runs a dll that the image copies from a build stage's publish output: publish it the same way.
        Assert.Equal("dotnet", image.Entrypoint[0]);
        string serverFolder = Path.GetDirectoryName(image.Entrypoint[1])!;
        var copy = image.Copies.SingleOrDefault(c => c.FromStage is not null && c.Destination.TrimEnd('/') == serverFolder);
        Assert.True(copy is not null, $"no COPY --from=STAGE puts anything at {serverFolder}, where the ENTRYPOINT's dll is");
        var publish = image.DotnetPublishCalls(image.Stage(copy.FromStage!)).SingleOrDefault(call => OutputOption(call) == copy.Source.TrimEnd('/'));
        Assert.True(publish is not null, $"no dotnet publish in stage {copy.FromStage} writes {copy.Source}");
        var time = Stopwatch.StartNew();
        await PublishAsync(publish, ContainerPath(serverFolder));
        output.WriteLine($"dotnet {string.Join(' ', publish)}: {time.Elapsed.TotalSeconds:F0} s");

        foreach (var content in image.Copies.Where(c => c.FromStage is null))
        {
            CopyTree(Path.Combine(TestPaths.RepoRoot, content.Source), ContainerPath(content.Destination));
        }
        foreach (string volume in image.Volumes) Directory.CreateDirectory(ContainerPath(volume));
        Directory.CreateDirectory(ContainerPath(image.WorkDir));

        Assert.True(image.Environment.TryGetValue("ASPNETCORE_HTTP_PORTS", out string? httpPorts), "the Dockerfile sets no ASPNETCORE_HTTP_PORTS (the healthcheck verb reads it)");
        Assert.Contains(int.Parse(httpPorts), image.ExposedPorts);
        int port = ServerProcess.FreePort();
        var environment = image.Environment.ToDictionary(e => e.Key, e => e.Value.StartsWith('/') ? ContainerPath(e.Value) : e.Value);
        environment["ASPNETCORE_HTTP_PORTS"] = port.ToString();
        // Kestrel binds ASPNETCORE_HTTP_PORTS on every interface; ASPNETCORE_URLS takes precedence over it and keeps
        // the test on loopback, while the healthcheck verb still finds the port in ASPNETCORE_HTTP_PORTS.
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";

        TimeSpan healthTimeout = Duration(image.HealthCheckOptions.GetValueOrDefault("timeout", "30s"));
        await using (var server = await ServerProcess.StartAsync(Command(image, image.Entrypoint, environment), new Uri($"http://127.0.0.1:{port}")))
        {
            using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            Assert.Contains($"Now listening on: http://127.0.0.1:{port}", server.Output);

            var (_, models) = await Http.GetAsync(client, "/v1/models");
            Assert.Equal("tiny-shakespeare", models.GetProperty("data")[0].GetProperty("id").GetString());
            var (status, body) = await Http.PostAsync(client, "/v1/completions", """{"prompt": "ROMEO:\n", "max_tokens": 40, "seed": 1}""");
            Assert.True(status == 200, body.ToString());
            Assert.Equal("tiny-shakespeare", body.GetProperty("model").GetString());
            Assert.Equal(40, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
            Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("choices")[0].GetProperty("text").GetString()));

            var (exitCode, elapsed) = await RunAsync(Command(image, image.HealthCheck, environment), healthTimeout);
            Assert.True(exitCode == 0, $"HEALTHCHECK exited with {exitCode}");
            output.WriteLine($"HEALTHCHECK {string.Join(' ', image.HealthCheck)}: exit 0 in {elapsed.TotalMilliseconds:F0} ms (timeout {healthTimeout.TotalSeconds} s)");
        }
        // With the server gone the same check fails: it really probed that server.
        Assert.Equal(1, (await RunAsync(Command(image, image.HealthCheck, environment), healthTimeout)).ExitCode);
    }

    [Fact]
    public void CudaVariantKeepsTheEntrypointPortAndSettingsAndPublishesForCuda()
    {
        string dockerfile = Path.Combine(TestPaths.RepoRoot, "Dockerfile");
        var cpu = DockerfileImage.Load(dockerfile);
        var cuda = DockerfileImage.Load(dockerfile, new Dictionary<string, string> { ["VARIANT"] = "cuda" });

        Assert.Equal(cpu.Entrypoint, cuda.Entrypoint);
        Assert.Equal(cpu.HealthCheck, cuda.HealthCheck);
        Assert.Equal(cpu.User, cuda.User);
        foreach (var (key, value) in cpu.Environment) Assert.Equal(value, cuda.Environment.GetValueOrDefault(key));
        // The CUDA stage builds on NVIDIA's image, not on .NET's: it must set what .NET's sets and create the user.
        var cudaStage = cuda.Stages.Single(s => s.Name == "runtime-cuda");
        Assert.Equal("8080", cuda.Environment["ASPNETCORE_HTTP_PORTS"]);
        Assert.Contains(cudaStage.Instructions, i => i.Keyword == "RUN" && i.Arguments.Contains($"--uid {cuda.User}", StringComparison.Ordinal));

        foreach (var (image, flag) in new[] { (cpu, "-p:GenAICuda=false"), (cuda, "-p:GenAICuda=true") })
        {
            var calls = image.DotnetPublishCalls(image.Stage("build"));
            Assert.Equal(2, calls.Count); // the server and the worker
            Assert.All(calls, call => Assert.Contains(flag, call));
        }
    }

    /// <summary>The value of <c>-o</c>/<c>--output</c> in a dotnet command line.</summary>
    private static string? OutputOption(string[] call)
    {
        int i = Array.FindIndex(call, a => a is "-o" or "--output");
        return i >= 0 && i + 1 < call.Length ? call[i + 1].TrimEnd('/') : null;
    }

    /// <summary>
    /// Runs the Dockerfile's <c>dotnet publish</c> from the repository root (the build stage's copy of the context)
    /// into <paramref name="folder"/>. Its intermediate files go to a temp artifacts folder, as in the image build's
    /// clean context: the worktree's obj/ and bin/ are neither used nor touched.
    /// </summary>
    private async Task PublishAsync(string[] call, string folder)
    {
        Assert.Equal("publish", call[0]);
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = TestPaths.RepoRoot };
        string[] args = [.. call];
        args[Array.FindIndex(args, a => a is "-o" or "--output") + 1] = folder;
        foreach (string arg in args) start.ArgumentList.Add(arg);
        foreach (string arg in (string[])["--artifacts-path", Path.Combine(_temp, "artifacts"), "--disable-build-servers"]) start.ArgumentList.Add(arg);
        // The test host may carry the outer build's MSBuild settings; the publish is a build of its own.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList()) start.Environment.Remove(key);
        var (exitCode, _, log) = await RunToEndAsync(start, TimeSpan.FromMinutes(10));
        Assert.True(exitCode == 0, $"dotnet {string.Join(' ', args)} exited with {exitCode}:\n{log}");
    }

    /// <summary>A command of the image (exec form) as a process: container paths mapped, the image's environment only.</summary>
    private ProcessStartInfo Command(DockerfileImage image, string[] command, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(command[0]) { WorkingDirectory = ContainerPath(image.WorkDir) };
        foreach (string arg in command[1..]) start.ArgumentList.Add(arg.StartsWith('/') ? ContainerPath(arg) : arg);
        // What this machine needs to find dotnet, and nothing else of the test host's environment.
        var keep = new[] { "PATH", "HOME", "DOTNET_ROOT", "TMPDIR" }.Where(k => start.Environment.ContainsKey(k)).ToDictionary(k => k, k => start.Environment[k]);
        start.Environment.Clear();
        foreach (var (key, value) in keep) start.Environment[key] = value;
        foreach (var (key, value) in environment) start.Environment[key] = value;
        return start;
    }

    private static async Task<(int ExitCode, TimeSpan Elapsed)> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        var (exitCode, elapsed, log) = await RunToEndAsync(start, timeout);
        if (exitCode is not (0 or 1)) Assert.Fail($"{start.FileName} exited with {exitCode}:\n{log}");
        return (exitCode, elapsed);
    }

    private static async Task<(int ExitCode, TimeSpan Elapsed, string Log)> RunToEndAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var time = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"{start.FileName} {string.Join(' ', start.ArgumentList)} took longer than {timeout}:\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, time.Elapsed, await stdout + await stderr);
    }

    /// <summary>A Docker duration (<c>6s</c>, <c>1m30s</c>, <c>500ms</c>).</summary>
    private static TimeSpan Duration(string text)
    {
        var parts = Regex.Matches(text, @"(\d+)(ms|s|m|h)");
        Assert.True(parts.Sum(p => p.Length) == text.Length, $"not a Docker duration: '{text}'");
        return parts.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(int.Parse(p.Groups[1].Value)),
            "s" => TimeSpan.FromSeconds(int.Parse(p.Groups[1].Value)),
            "m" => TimeSpan.FromMinutes(int.Parse(p.Groups[1].Value)),
            _ => TimeSpan.FromHours(int.Parse(p.Groups[1].Value)),
        });
    }

    /// <summary>COPY of a context path: a folder's contents go into the destination folder.</summary>
    private static void CopyTree(string source, string destination)
    {
        if (File.Exists(source))
        {
            string target = destination.EndsWith('/') ? Path.Combine(destination, Path.GetFileName(source)) : destination;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
            return;
        }
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_temp)) Directory.Delete(_temp, recursive: true);
    }
}
