using System.Text.Json;
using GenAI.Core.Generation;
using GenAI.Server.Hosting;

namespace GenAI.Server.Api;

/// <summary>Turns the API's sampling fields into <see cref="SamplingParameters"/>, with the model's and OpenAI's defaults.</summary>
public static class SamplingMapper
{
    public static SamplingParameters ToParameters(SamplingFields f, ServedModel model, ServerOptions options, int promptTokens,
        int? requestedMaxTokens, int defaultMaxTokens, IReadOnlyList<string> extraStops, int? logprobs)
    {
        int n = f.N ?? 1;
        if (n < 1 || n > options.MaxChoices) throw ApiException.Invalid($"n must be between 1 and {options.MaxChoices}, not {n}", "n");
        // A default (not asked for) never runs past the context; an explicit max_tokens that does is an error.
        int maxTokens = requestedMaxTokens
                        ?? Math.Max(1, Math.Min(model.Defaults.MaxNewTokens ?? defaultMaxTokens, model.ContextLength - promptTokens));
        if (requestedMaxTokens > options.MaxTokensPerRequest)
        {
            throw ApiException.Invalid($"max_tokens {requestedMaxTokens} exceeds the server's limit of {options.MaxTokensPerRequest}", "max_tokens");
        }
        maxTokens = Math.Min(maxTokens, options.MaxTokensPerRequest);

        bool beams = f.UseBeamSearch == true || f.NumBeams > 1;
        int numBeams = beams ? f.NumBeams ?? Math.Max(n, 4) : 1;
        var requestStops = Strings(f.Stop, "stop").ToList();
        return new SamplingParameters
        {
            MaxTokens = maxTokens,
            MinTokens = f.MinTokens ?? 0,
            Temperature = beams ? 0 : f.Temperature ?? model.Defaults.Temperature ?? 1.0,
            TopP = f.TopP ?? model.Defaults.TopP ?? 1.0,
            TopK = f.TopK ?? model.Defaults.TopK ?? 0,
            MinP = f.MinP ?? 0,
            RepetitionPenalty = f.RepetitionPenalty ?? model.Defaults.RepetitionPenalty ?? 1.0,
            PresencePenalty = f.PresencePenalty ?? 0,
            FrequencyPenalty = f.FrequencyPenalty ?? 0,
            NoRepeatNgramSize = f.NoRepeatNgramSize ?? model.Defaults.NoRepeatNgramSize ?? 0,
            LogitBias = LogitBias(f.LogitBias),
            Seed = f.Seed,
            // Template stops are a safety net for sampling; beam search takes only what the client asked for.
            Stop = beams ? requestStops : [.. requestStops, .. extraStops],
            StopTokenIds = f.StopTokenIds ?? [],
            IgnoreEos = f.IgnoreEos ?? false,
            LogProbs = logprobs,
            NumBeams = numBeams,
            NumReturnSequences = beams ? n : 1,
            LengthPenalty = f.LengthPenalty ?? 1.0,
            EarlyStopping = EarlyStoppingOf(f.EarlyStopping),
        };
    }

    /// <summary>A string or a list of strings.</summary>
    public static IEnumerable<string> Strings(JsonElement? element, string field)
    {
        if (element is not { } e || e.ValueKind == JsonValueKind.Null) return [];
        if (e.ValueKind == JsonValueKind.String) return [e.GetString()!];
        if (e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(i => i.ValueKind == JsonValueKind.String))
        {
            return e.EnumerateArray().Select(i => i.GetString()!).ToList();
        }
        throw ApiException.Invalid($"{field} must be a string or a list of strings", field);
    }

    private static Dictionary<int, double> LogitBias(Dictionary<string, double>? bias)
    {
        var result = new Dictionary<int, double>();
        foreach (var (key, value) in bias ?? [])
        {
            if (!int.TryParse(key, out int token)) throw ApiException.Invalid($"logit_bias keys must be token ids, not '{key}'", "logit_bias");
            result[token] = value;
        }
        return result;
    }

    private static EarlyStopping EarlyStoppingOf(JsonElement? element) => element switch
    {
        null => EarlyStopping.Heuristic,
        { ValueKind: JsonValueKind.Null } => EarlyStopping.Heuristic,
        { ValueKind: JsonValueKind.True } => EarlyStopping.Always,
        { ValueKind: JsonValueKind.False } => EarlyStopping.Heuristic,
        { ValueKind: JsonValueKind.String } e when e.GetString() == "never" => EarlyStopping.Never,
        _ => throw ApiException.Invalid("early_stopping must be true, false or \"never\"", "early_stopping"),
    };
}
