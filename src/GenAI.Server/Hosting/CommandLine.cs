namespace GenAI.Server.Hosting;

/// <summary>Maps the server's command-line flags onto configuration keys.</summary>
public static class CommandLine
{
    private static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        ["--models-root"] = "ModelsRoot",
        ["--device"] = "Device",
        ["--dtype"] = "DType",
        ["--quantize"] = "Quantize",
        ["--max-concurrent-sequences"] = "MaxConcurrentSequences",
        ["--max-queued-requests"] = "MaxQueuedRequests",
        ["--max-sequence-length"] = "MaxSequenceLength",
        ["--max-model-len"] = "MaxSequenceLength", // vLLM's name
        ["--max-prefill-tokens"] = "MaxPrefillTokensPerStep",
        ["--prefix-cache-mib"] = "PrefixCacheMiB",
        ["--api-key"] = "ApiKeys",
        ["--json-logs"] = "JsonLogs",
        ["--data-root"] = "DataRoot",
        ["--job-store"] = "JobStore",
        ["--max-upload-bytes"] = "MaxUploadBytes",
        ["--in-process-worker"] = "InProcessWorker",
        ["--path-base"] = "PathBase",
    };

    /// <summary>
    /// Rewrites <c>--model A --model B</c> (and <c>--api-key</c>) into indexed keys <c>GenAI:Models:0</c>, ... and the
    /// other flags into <c>GenAI:*</c>; arguments it does not know (<c>--urls</c>, ...) pass through unchanged.
    /// </summary>
    public static string[] Normalize(string[] args)
    {
        var result = new List<string>();
        var counts = new Dictionary<string, int>();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string? value = null;
            int eq = arg.IndexOf('=');
            string flag = eq > 0 && arg.StartsWith("--", StringComparison.Ordinal) ? arg[..eq] : arg;
            if (eq > 0) value = arg[(eq + 1)..];
            string? key = flag == "--model" ? "Models" : Flags.GetValueOrDefault(flag);
            if (key is null)
            {
                result.Add(arg);
                continue;
            }
            if (value is null)
            {
                if (flag == "--json-logs" && (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))) value = "true";
                else if (i + 1 < args.Length) value = args[++i];
                else throw new ArgumentException($"{flag} needs a value");
            }
            if (key is "Models" or "ApiKeys")
            {
                int index = counts.GetValueOrDefault(key);
                counts[key] = index + 1;
                result.Add($"--{ServerOptions.Section}:{key}:{index}={value}");
            }
            else
            {
                result.Add($"--{ServerOptions.Section}:{key}={value}");
            }
        }
        return result.ToArray();
    }
}
