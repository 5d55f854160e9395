using System.Text.Json;
using System.Text.RegularExpressions;
using GenAI.Core.Generation;
using GenAI.Core.Generation.Constraints;
using GenAI.Server.Hosting;

namespace GenAI.Server.Api;

/// <summary>Turns the API's sampling fields into <see cref="SamplingParameters"/>, with the model's and OpenAI's defaults.</summary>
public static partial class SamplingMapper
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
            Constraint = Constraint(f.ResponseFormat),
        };
    }

    /// <summary>
    /// The constraint <c>response_format</c> asks for (null for text), compiled once per schema text
    /// (<see cref="JsonConstraintCache.Shared"/>); an invalid or unsupported schema is a 400 whose message names the
    /// keyword and its path (<c>response_format.json_schema.schema.properties.age: keyword 'multipleOf' is not supported</c>).
    /// </summary>
    public static OutputConstraint? Constraint(ResponseFormat? format) => Constraint(format, "response_format", "response_format.json_schema");

    /// <summary>
    /// The constraint of an output format found at <paramref name="field"/> of the request, whose name and schema are
    /// at <paramref name="schemaField"/> (chat nests them in <c>json_schema</c>; the Responses API's <c>text.format</c>
    /// has them flat): errors name these paths, and the engine's errors name <paramref name="field"/>.
    /// </summary>
    public static OutputConstraint? Constraint(ResponseFormat? format, string field, string schemaField)
    {
        if (format is null) return null;
        switch (format.Type)
        {
            case null:
                throw ApiException.Invalid($"{field}.type is required: text, json_object or json_schema", field);
            case "text":
                return null;
            case "json_object":
                return new OutputConstraint(JsonConstraintCache.Shared.AnyObject()) { Parameter = field };
            case "json_schema":
                if (format.JsonSchema is not { } jsonSchema) throw ApiException.Invalid($"{schemaField} is required when type is json_schema", field);
                if (jsonSchema.Name is { } name && !SchemaName().IsMatch(name))
                {
                    throw ApiException.Invalid($"{schemaField}.name must be 1 to 64 letters, digits, '_' or '-'", field);
                }
                if (jsonSchema.Schema is not { ValueKind: not JsonValueKind.Null } schema) throw ApiException.Invalid($"{schemaField}.schema is required", field);
                try
                {
                    return new OutputConstraint(JsonConstraintCache.Shared.FromSchema(schema, $"{schemaField}.schema")) { Parameter = field };
                }
                catch (JsonSchemaException e)
                {
                    throw ApiException.Invalid(e.Message, field);
                }
            default:
                throw ApiException.Invalid($"{field}.type must be text, json_object or json_schema, not '{format.Type}'", field);
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex SchemaName();

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
