using System.ComponentModel.DataAnnotations;

namespace GenAI.Server.Hosting;

/// <summary>The server's settings: section <c>GenAI</c> of appsettings, environment variables <c>GenAI__*</c>, or the command line.</summary>
public sealed class ServerOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "GenAI";

    /// <summary>Model folders to serve (<c>--model PATH</c>, repeatable); the id is the folder name.</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>Folder whose sub-folders are served as models, besides any given with <c>--model</c> (<c>--models-root</c>); new models and revisions published there are loaded as they appear.</summary>
    public string ModelsRoot { get; set; } = "models";

    /// <summary>Seconds between looks for new models and revisions under the models root and the given folders; 0 turns the watcher off (requests still pick up a new revision).</summary>
    [Range(0, 3600)]
    public int ModelsPollSeconds { get; set; } = 2;

    /// <summary><c>auto</c>, <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Compute dtype: <c>float32</c>, <c>bfloat16</c> or <c>float16</c>.</summary>
    [RegularExpression("^(float32|bfloat16|float16)$")]
    public string DType { get; set; } = "float32";

    /// <summary>
    /// Weight quantization at load: <c>none</c>, or <c>int8</c> (llama.cpp's Q8_0, in memory only, CPU): every linear layer
    /// and the LM head in int8 with a float16 scale per 32 weights, about a quarter of float32's bytes and decode time;
    /// the rest keeps <see cref="DType"/>. Checkpoints stay float; a quantized model serves but is never trained.
    /// </summary>
    [RegularExpression("^(none|int8)$")]
    public string Quantize { get; set; } = "none";

    /// <summary>Sequences decoded together per model (rows of the batch; a beam search takes num_beams).</summary>
    [Range(1, 1024)]
    public int MaxConcurrentSequences { get; set; } = 16;

    /// <summary>
    /// Positions per sequence (prompt + output) the KV cache holds for each row; null: the model's context, at most
    /// <see cref="DefaultMaxSequenceLength"/>, so a 128k-context model does not allocate 128k positions per row. A request
    /// that would exceed it is a 400 naming the limit.
    /// </summary>
    [Range(2, 10_000_000)]
    public int? MaxSequenceLength { get; set; }

    /// <summary>
    /// Most prompt tokens one prefill pass reads (longer prompts are read in chunks); while streams are generating,
    /// passes are sized to keep their next tokens coming within a few of their usual gaps.
    /// </summary>
    [Range(16, 1_000_000)]
    public int MaxPrefillTokensPerStep { get; set; } = 512;

    /// <summary>Mebibytes of keys and values the automatic prefix cache keeps per model (0 turns it off).</summary>
    [Range(0, 1_000_000)]
    public int PrefixCacheMiB { get; set; } = 256;

    /// <summary>The cap on a model's context when <see cref="MaxSequenceLength"/> is not set.</summary>
    public const int DefaultMaxSequenceLength = 4096;

    /// <summary>Requests waiting per model before the server answers 429.</summary>
    [Range(1, 100_000)]
    public int MaxQueuedRequests { get; set; } = 64;

    /// <summary>Largest request body in bytes (413 above it).</summary>
    [Range(1024, 1L << 31)]
    public long MaxBodyBytes { get; set; } = 1 << 20;

    /// <summary>Most new tokens one request may ask for (also capped by the model's context).</summary>
    [Range(1, 1_000_000)]
    public int MaxTokensPerRequest { get; set; } = 4096;

    /// <summary>Most choices (<c>n</c>) per request.</summary>
    [Range(1, 128)]
    public int MaxChoices { get; set; } = 8;

    /// <summary>Longest a request may run before it is cancelled, in seconds.</summary>
    [Range(1, 86_400)]
    public int RequestTimeoutSeconds { get; set; } = 600;

    /// <summary>API keys; when any is set every <c>/v1</c> endpoint requires <c>Authorization: Bearer KEY</c>.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>Seconds of silence after which a stream sends a <c>:</c> keep-alive comment.</summary>
    [Range(1, 3600)]
    public int KeepAliveSeconds { get; set; } = 15;

    /// <summary>
    /// URL path prefix the server answers under when a reverse proxy forwards <c>/PREFIX/...</c> unchanged (<c>--path-base</c>,
    /// e.g. <c>/genai</c>); requests without it are served as before. A proxy that strips the prefix needs nothing here.
    /// </summary>
    [RegularExpression("^(/[A-Za-z0-9._~-]+)*$", ErrorMessage = "PathBase must be empty or /segment[/segment...] of letters, digits, '.', '_', '~' and '-'")]
    public string PathBase { get; set; } = "";

    /// <summary>Logs as JSON lines instead of text.</summary>
    public bool JsonLogs { get; set; }

    /// <summary>Folder of the job store (<c>genai.db</c>), uploaded files and job checkpoints (<c>--data-root</c>).</summary>
    public string DataRoot { get; set; } = "data";

    /// <summary>
    /// The job store's database (<c>--job-store</c>): empty for <c>genai.db</c> in <see cref="DataRoot"/>; a
    /// <c>postgres://user:password@host:5432/db</c> URL or <c>Host=...;Database=...</c> for PostgreSQL (many replicas and
    /// workers sharing one store); any other value is a SQLite file's path.
    /// </summary>
    public string? JobStore { get; set; }

    /// <summary>Largest uploaded training file in bytes (413 above it).</summary>
    [Range(1024, 1L << 40)]
    public long MaxUploadBytes { get; set; } = 256L << 20;

    /// <summary>Runs the fine-tuning worker inside the server (single-machine default); false when a separate <c>GenAI.Worker run</c> does it.</summary>
    public bool InProcessWorker { get; set; } = true;
}
