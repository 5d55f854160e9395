using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace GenAI.Tests.Shared;

/// <summary>
/// The PostgreSQL server the tests use, one per test process: the server named by <c>GENAI_TEST_POSTGRES</c> (an
/// Npgsql connection string; <c>.ci/run</c> starts one and sets it), else a throw-away cluster started here from the
/// machine's PostgreSQL binaries (initdb into a temporary folder, a free port on 127.0.0.1, its socket in that folder,
/// trust authentication; run as the <c>postgres</c> user when the tests run as root, since PostgreSQL refuses root),
/// stopped and deleted when the process exits. Without either, <see cref="SkipReason"/> says why and the PostgreSQL
/// tests report themselves skipped. Each test gets its own schema (<see cref="CreateDatabase"/>).
/// </summary>
internal sealed class PostgresServer
{
    public const string Variable = "GENAI_TEST_POSTGRES";

    private static readonly Lazy<PostgresServer> Instance = new(() => new PostgresServer(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string? _cluster;
    private readonly string? _runAs;
    private readonly string? _binaries;

    public static PostgresServer Shared => Instance.Value;

    /// <summary>The administrator's connection string, or null with <see cref="SkipReason"/>.</summary>
    public string? ConnectionString { get; }

    /// <summary>Why there is no server (no variable and no PostgreSQL binaries), or why starting one failed.</summary>
    public string? SkipReason { get; }

    private PostgresServer()
    {
        string? given = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(given))
        {
            ConnectionString = given;
            return;
        }
        _binaries = FindBinaries();
        if (_binaries is null)
        {
            SkipReason = $"no PostgreSQL server: {Variable} is not set and no initdb/pg_ctl was found on PATH or in /usr/lib/postgresql/*/bin " +
                "(install Debian's postgresql package, or run .ci/run, which starts one)";
            return;
        }
        _cluster = Directory.CreateTempSubdirectory("genai-pg-").FullName;
        try
        {
            if (Environment.UserName == "root")
            {
                _runAs = UserExists("postgres") ? "postgres" : "nobody";
                Run("chown", ["-R", _runAs, _cluster]);
            }
            int port = FreePort();
            string data = Path.Combine(_cluster, "data");
            RunPostgres("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]);
            RunPostgres("pg_ctl", ["-D", data, "-l", Path.Combine(_cluster, "server.log"), "-w", "-t", "60",
                "-o", $"-p {port} -k {_cluster} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
                "start"]);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
            StartWatchdog();
            ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
        }
        catch (Exception e)
        {
            Stop();
            // Binaries that exist but cannot start a server are a broken machine, not a missing feature: fail loudly.
            throw new InvalidOperationException($"PostgreSQL binaries were found in {_binaries} but no server started: {e.Message}", e);
        }
    }

    /// <summary>Throws xunit's skip when there is no server (SkippableFact tests only).</summary>
    public static PostgresServer Require()
    {
        var server = Shared;
        Skip.If(server.ConnectionString is null, server.SkipReason);
        return server;
    }

    /// <summary>
    /// A fresh, empty schema on the server; returns a connection string whose search path is that schema only, so each
    /// test has its own tables. <see cref="DropDatabase"/> removes it.
    /// </summary>
    public string CreateDatabase()
    {
        string schema = "t_" + Guid.NewGuid().ToString("N");
        using (var c = new NpgsqlConnection(ConnectionString))
        {
            c.Open();
            using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", c);
            command.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(ConnectionString) { SearchPath = schema }.ConnectionString;
    }

    /// <summary>Drops the schema <see cref="CreateDatabase"/> made for <paramref name="connectionString"/>.</summary>
    public void DropDatabase(string connectionString)
    {
        string schema = new NpgsqlConnectionStringBuilder(connectionString).SearchPath!;
        NpgsqlConnection.ClearAllPools();
        using var c = new NpgsqlConnection(ConnectionString);
        c.Open();
        using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", c);
        command.ExecuteNonQuery();
    }

    private void Stop()
    {
        if (_cluster is null || !Directory.Exists(_cluster)) return;
        try
        {
            if (File.Exists(Path.Combine(_cluster, "data", "postmaster.pid")))
            {
                RunPostgres("pg_ctl", ["-D", Path.Combine(_cluster, "data"), "-m", "immediate", "-w", "stop"]);
            }
        }
        catch (Exception)
        {
            // Deleting the folder below still removes what it can; the server (if any) dies with its socket folder.
        }
        try
        {
            Directory.Delete(_cluster, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// A detached shell that waits for this process to end, however it ends (a test host killed by a hang timeout runs no
    /// exit handlers), then stops the cluster and deletes its folder.
    /// </summary>
    private void StartWatchdog()
    {
        const string watch = """
            while kill -0 "$1" 2>/dev/null; do sleep 1; done
            if [ -f "$3/data/postmaster.pid" ]; then
              if [ -n "$4" ]; then runuser -u "$4" -- "$2/pg_ctl" -D "$3/data" -m immediate -w stop; else "$2/pg_ctl" -D "$3/data" -m immediate -w stop; fi
            fi
            rm -rf "$3"
            """;
        // setsid in a background job: the watchdog leaves this process's tree, so killing the tree does not kill it.
        Run("sh", ["-c", "setsid sh -c \"$0\" genai-pg-watchdog \"$@\" </dev/null >/dev/null 2>&1 &", watch,
            Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), _binaries!, _cluster!, _runAs ?? ""]);
    }

    private void RunPostgres(string tool, IEnumerable<string> args)
    {
        string program = Path.Combine(_binaries!, tool);
        if (_runAs is null) Run(program, args);
        else Run("runuser", ["-u", _runAs, "--", program, .. args]);
    }

    private static void Run(string program, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120))) process.Kill(entireProcessTree: true);
        if (process.ExitCode != 0) throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', args)} exited with {process.ExitCode}: {stderr}{stdout.Result}");
    }

    private static string? FindBinaries()
    {
        static bool Has(string folder) => File.Exists(Path.Combine(folder, "initdb")) && File.Exists(Path.Combine(folder, "pg_ctl"));
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (Has(folder)) return folder;
        }
        if (!Directory.Exists("/usr/lib/postgresql")) return null;
        return Directory.EnumerateDirectories("/usr/lib/postgresql")
            .Select(v => Path.Combine(v, "bin"))
            .Where(Has)
            .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out int major) ? major : 0)
            .FirstOrDefault();
    }

    private static bool UserExists(string name) => File.ReadLines("/etc/passwd").Any(line => line.StartsWith(name + ":", StringComparison.Ordinal));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
