using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GenAI.Server.Tests.Container;

/// <summary>One Dockerfile instruction, after comments are dropped and continuation lines joined.</summary>
internal sealed record DockerInstruction(string Keyword, string Arguments, int Line);

/// <summary>A <c>FROM</c> stage: its base (a stage name or an image, build arguments substituted) and its instructions.</summary>
internal sealed record DockerStage(string? Name, string From, IReadOnlyList<DockerInstruction> Instructions);

/// <summary>A <c>COPY</c>: from the build context (<see cref="FromStage"/> null) or from another stage.</summary>
internal sealed record DockerCopy(string? FromStage, string Source, string Destination);

/// <summary>
/// What a Dockerfile says about the image its last stage builds: environment, entry point, health check, working
/// directory, volumes, exposed ports and copied files, collected along that stage's chain of <c>FROM</c> stages.
/// It reads the subset of the syntax our Dockerfile uses and refuses the rest (NotSupportedException naming the
/// line), so that a Dockerfile change it cannot follow fails the test instead of being half understood.
/// What the base images themselves set (e.g. aspnet's APP_UID) is not visible here.
/// </summary>
internal sealed class DockerfileImage
{
    private DockerfileImage(IReadOnlyList<DockerStage> stages, IReadOnlyDictionary<string, string> buildArgs)
    {
        Stages = stages;
        BuildArgs = buildArgs;
        var chain = new List<DockerStage>();
        for (DockerStage? stage = stages[^1]; stage is not null;)
        {
            chain.Insert(0, stage);
            string from = stage.From;
            stage = stages.FirstOrDefault(s => s.Name == from);
        }
        foreach (var instruction in chain.SelectMany(s => s.Instructions))
        {
            string args = instruction.Arguments;
            switch (instruction.Keyword)
            {
                case "ENV":
                    foreach (var (key, value) in ParseEnv(instruction)) Environment[key] = value;
                    break;
                case "ENTRYPOINT":
                    Entrypoint = ExecForm(instruction, args);
                    break;
                case "HEALTHCHECK":
                    var (options, command) = ParseHealthCheck(instruction);
                    HealthCheckOptions = options;
                    HealthCheck = command;
                    break;
                case "WORKDIR":
                    if (!args.StartsWith('/')) throw Unsupported(instruction, "a relative WORKDIR");
                    WorkDir = args;
                    break;
                case "VOLUME":
                    Volumes.AddRange(args.StartsWith('[') ? ExecForm(instruction, args) : Words(args));
                    break;
                case "EXPOSE":
                    ExposedPorts.AddRange(Words(args).Select(p => int.Parse(p.Split('/')[0])));
                    break;
                case "COPY":
                    Copies.Add(ParseCopy(instruction));
                    break;
                case "USER":
                    User = args;
                    break;
            }
        }
    }

    /// <summary>Every stage, in file order.</summary>
    public IReadOnlyList<DockerStage> Stages { get; }

    /// <summary>The build arguments declared before the first FROM, with the values this image was read with.</summary>
    public IReadOnlyDictionary<string, string> BuildArgs { get; }

    /// <summary>ENV of the image's stages, in order (later wins).</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public string[] Entrypoint { get; } = [];

    /// <summary>The HEALTHCHECK's CMD in exec form; empty when there is none.</summary>
    public string[] HealthCheck { get; } = [];

    /// <summary>The HEALTHCHECK's options without dashes: <c>interval</c>, <c>timeout</c>, ...</summary>
    public IReadOnlyDictionary<string, string> HealthCheckOptions { get; } = new Dictionary<string, string>();

    public string WorkDir { get; } = "/";

    public string? User { get; }

    public List<string> Volumes { get; } = [];

    public List<int> ExposedPorts { get; } = [];

    /// <summary>COPY instructions of the image's stages.</summary>
    public List<DockerCopy> Copies { get; } = [];

    /// <summary>Reads <paramref name="path"/>; <paramref name="buildArgs"/> overrides the defaults of global ARGs (<c>--build-arg</c>).</summary>
    public static DockerfileImage Load(string path, IReadOnlyDictionary<string, string>? buildArgs = null)
    {
        var instructions = Instructions(File.ReadAllLines(path));
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        var stages = new List<DockerStage>();
        List<DockerInstruction>? current = null;
        foreach (var instruction in instructions)
        {
            if (instruction.Keyword == "FROM")
            {
                var words = Words(instruction.Arguments).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
                string from = Substitute(instruction, words[0], args);
                string? name = words.Count == 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                current = [];
                stages.Add(new DockerStage(name, from, current));
            }
            else if (current is null)
            {
                if (instruction.Keyword != "ARG") throw Unsupported(instruction, $"{instruction.Keyword} before the first FROM");
                var (key, value) = SplitAssignment(instruction.Arguments);
                args[key] = buildArgs?.GetValueOrDefault(key) ?? value ?? "";
            }
            else
            {
                current.Add(instruction);
            }
        }
        if (stages.Count == 0) throw new NotSupportedException($"{path}: no FROM");
        return new DockerfileImage(stages, args);
    }

    public DockerStage Stage(string name) => Stages.Single(s => s.Name == name);

    /// <summary>
    /// The arguments of every <c>dotnet</c> call in the stage's RUN instructions that call <c>dotnet publish</c>. Each
    /// script runs under <c>/bin/sh</c> as the image build runs it, with the stage's ARG and ENV values and <c>dotnet</c>
    /// replaced by a shell function that prints its arguments, so that expansions (<c>$VARIANT</c>, <c>$(...)</c>)
    /// come out as the build's shell makes them. The scripts must call nothing with side effects besides dotnet.
    /// </summary>
    public List<string[]> DotnetPublishCalls(DockerStage stage)
    {
        var calls = new List<string[]>();
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var instruction in stage.Instructions)
        {
            switch (instruction.Keyword)
            {
                case "ARG":
                    var (key, value) = SplitAssignment(instruction.Arguments);
                    variables[key] = value ?? BuildArgs.GetValueOrDefault(key, "");
                    break;
                case "ENV":
                    foreach (var (k, v) in ParseEnv(instruction)) variables[k] = v;
                    break;
                case "RUN" when instruction.Arguments.Contains("dotnet publish", StringComparison.Ordinal):
                    calls.AddRange(RunWithDotnetStub(instruction, variables));
                    break;
            }
        }
        return calls;
    }

    private static List<string[]> RunWithDotnetStub(DockerInstruction instruction, Dictionary<string, string> variables)
    {
        // RUN's own flags (--mount=..., --network=...) are BuildKit's, not the script's.
        string script = Regex.Replace(instruction.Arguments, @"^(--\S+\s+)*", "");
        if (script.StartsWith('[')) throw Unsupported(instruction, "RUN in exec form");
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("dotnet() { printf '%s\\037' \"$@\"; printf '\\n'; }\n" + script);
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/bin:/bin";
        foreach (var (key, value) in variables) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"Dockerfile line {instruction.Line}: the RUN script failed under sh ({process.ExitCode}): {error}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\x1f').Split('\x1f')).ToList();
    }

    private static List<DockerInstruction> Instructions(string[] lines)
    {
        var result = new List<DockerInstruction>();
        var text = new StringBuilder();
        int start = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            string trimmed = lines[i].Trim();
            // Docker drops comment lines, also inside a continued instruction; blank lines carry nothing.
            if (trimmed.Length == 0 || trimmed.StartsWith('#')) continue;
            if (text.Length == 0) start = i + 1;
            if (trimmed.EndsWith('\\'))
            {
                text.Append(trimmed[..^1]).Append(' ');
                continue;
            }
            text.Append(trimmed);
            string joined = text.ToString();
            text.Clear();
            int space = joined.IndexOfAny([' ', '\t']);
            string keyword = (space < 0 ? joined : joined[..space]).ToUpperInvariant();
            result.Add(new DockerInstruction(keyword, space < 0 ? "" : joined[(space + 1)..].Trim(), start));
        }
        return result;
    }

    private static IEnumerable<(string Key, string Value)> ParseEnv(DockerInstruction instruction)
    {
        var words = Words(instruction.Arguments);
        if (words.Count > 0 && !words[0].Contains('='))
        {
            // Legacy form: ENV KEY the rest of the line.
            string legacy = instruction.Arguments[words[0].Length..].Trim();
            yield return (words[0], CheckValue(instruction, legacy));
            yield break;
        }
        foreach (string word in words)
        {
            var (key, value) = SplitAssignment(word);
            if (value is null) throw Unsupported(instruction, $"ENV item '{word}' without '='");
            yield return (key, CheckValue(instruction, value));
        }
    }

    private static string CheckValue(DockerInstruction instruction, string value) =>
        value.Contains('$') || value.Contains('"') || value.Contains('\'') ? throw Unsupported(instruction, $"quoting or substitution in '{value}'") : value;

    private static (Dictionary<string, string> Options, string[] Command) ParseHealthCheck(DockerInstruction instruction)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        string rest = instruction.Arguments;
        if (rest.Equals("NONE", StringComparison.OrdinalIgnoreCase)) return (options, []);
        while (rest.StartsWith("--", StringComparison.Ordinal))
        {
            int end = rest.IndexOf(' ');
            var (key, value) = SplitAssignment(rest[2..end]);
            options[key] = value ?? "";
            rest = rest[end..].TrimStart();
        }
        if (!rest.StartsWith("CMD ", StringComparison.OrdinalIgnoreCase)) throw Unsupported(instruction, "a HEALTHCHECK without CMD");
        return (options, ExecForm(instruction, rest[4..].Trim()));
    }

    private static DockerCopy ParseCopy(DockerInstruction instruction)
    {
        if (instruction.Arguments.StartsWith('[')) throw Unsupported(instruction, "COPY in exec form");
        var words = Words(instruction.Arguments);
        string? from = null;
        var paths = new List<string>();
        foreach (string word in words)
        {
            if (word.StartsWith("--from=", StringComparison.Ordinal)) from = word["--from=".Length..];
            else if (!word.StartsWith("--", StringComparison.Ordinal)) paths.Add(word);
        }
        if (paths.Count != 2) throw Unsupported(instruction, "COPY with other than one source");
        return new DockerCopy(from, paths[0], paths[1]);
    }

    private static string[] ExecForm(DockerInstruction instruction, string text)
    {
        if (!text.StartsWith('[')) throw Unsupported(instruction, $"{instruction.Keyword} in shell form");
        return JsonSerializer.Deserialize<string[]>(text) ?? [];
    }

    private static string Substitute(DockerInstruction instruction, string text, Dictionary<string, string> args) =>
        Regex.Replace(text, @"\$\{(\w+)\}|\$(\w+)", m =>
        {
            string name = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
            return args.TryGetValue(name, out string? value) ? value : throw Unsupported(instruction, $"undeclared ARG {name}");
        });

    private static (string Key, string? Value) SplitAssignment(string text)
    {
        int eq = text.IndexOf('=');
        return eq < 0 ? (text.Trim(), null) : (text[..eq].Trim(), text[(eq + 1)..].Trim());
    }

    private static List<string> Words(string text) => text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).ToList();

    private static NotSupportedException Unsupported(DockerInstruction instruction, string what) =>
        new($"Dockerfile line {instruction.Line}: {what} is not understood by {nameof(DockerfileImage)}; extend it or keep the Dockerfile simpler");
}
