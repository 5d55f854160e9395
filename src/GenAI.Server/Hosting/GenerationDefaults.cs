using System.Text.Json;

namespace GenAI.Server.Hosting;

/// <summary>A model's <c>generation_config.json</c> values that stand in for fields a request leaves out.</summary>
public sealed record GenerationDefaults
{
    /// <summary>The file's name.</summary>
    public const string FileName = "generation_config.json";

    public int? MaxNewTokens { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public int? TopK { get; init; }
    public double? RepetitionPenalty { get; init; }
    public int? NoRepeatNgramSize { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Reads the folder's file; none or an unreadable one gives no defaults (a warning is the caller's).</summary>
    public static GenerationDefaults Load(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return new GenerationDefaults();
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        double? Number(string name) => root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble() : null;
        int? Integer(string name) => root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v : null;
        bool? doSample = root.TryGetProperty("do_sample", out var ds) && ds.ValueKind is JsonValueKind.True or JsonValueKind.False ? ds.GetBoolean() : null;
        var eos = new List<int>();
        if (root.TryGetProperty("eos_token_id", out var eosElement))
        {
            if (eosElement.ValueKind == JsonValueKind.Number) eos.Add(eosElement.GetInt32());
            else if (eosElement.ValueKind == JsonValueKind.Array) eos.AddRange(eosElement.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Number).Select(e => e.GetInt32()));
        }
        return new GenerationDefaults
        {
            MaxNewTokens = Integer("max_new_tokens"),
            // Hugging Face samples only with do_sample; a config that says false means greedy.
            Temperature = doSample == false ? 0 : Number("temperature"),
            TopP = doSample == false ? null : Number("top_p"),
            TopK = doSample == false ? null : Integer("top_k"),
            RepetitionPenalty = Number("repetition_penalty"),
            NoRepeatNgramSize = Integer("no_repeat_ngram_size"),
            EosTokenIds = eos,
        };
    }
}
