using System.Text.Json;
using System.Text.Json.Serialization;

namespace GenAI.Server.Api;

/// <summary>
/// Sampling and stopping fields shared by completions and chat: OpenAI's, plus vLLM-named extensions
/// (ranges are those of <see cref="GenAI.Core.Generation.SamplingParameters"/>).
/// </summary>
public abstract class SamplingFields
{
    /// <summary>Model id (see GET /v1/models); optional when the server serves one model.</summary>
    /// <example>gpt2-tiny</example>
    public string? Model { get; set; }

    /// <summary>Most tokens to generate (completions default 16, or the model's generation_config.json).</summary>
    /// <example>32</example>
    public int? MaxTokens { get; set; }

    /// <summary>0 = greedy; 0..100.</summary>
    /// <example>0.8</example>
    public double? Temperature { get; set; }

    /// <summary>Nucleus sampling, (0, 1].</summary>
    /// <example>0.95</example>
    public double? TopP { get; set; }

    /// <summary>Choices per prompt, 1..MaxChoices.</summary>
    /// <example>1</example>
    public int? N { get; set; }

    /// <summary>A stop string or a list of up to 16.</summary>
    public JsonElement? Stop { get; set; }

    /// <summary>-2..2, per OpenAI.</summary>
    public double? PresencePenalty { get; set; }

    /// <summary>-2..2, per OpenAI.</summary>
    public double? FrequencyPenalty { get; set; }

    /// <summary>Token id (as a string) → bias in [-100, 100].</summary>
    public Dictionary<string, double>? LogitBias { get; set; }

    /// <summary>Seed of the request's own random stream: the same seed gives the same tokens.</summary>
    /// <example>42</example>
    public long? Seed { get; set; }

    /// <summary>End-user id (logged only).</summary>
    public string? User { get; set; }

    /// <summary>Stream server-sent events.</summary>
    public bool? Stream { get; set; }

    /// <summary>Streaming options: include_usage adds a final usage chunk.</summary>
    public StreamOptions? StreamOptions { get; set; }

    /// <summary>vLLM: keep the k most likely tokens (0 or -1 disables).</summary>
    public int? TopK { get; set; }

    /// <summary>vLLM: drop tokens below min_p × the top probability, [0, 1].</summary>
    public double? MinP { get; set; }

    /// <summary>vLLM/HF: (0, 100]; &gt;1 discourages tokens already in prompt or output.</summary>
    public double? RepetitionPenalty { get; set; }

    /// <summary>vLLM: beam search instead of sampling.</summary>
    public bool? UseBeamSearch { get; set; }

    /// <summary>Beams for beam search (default max(n, 4) with use_beam_search).</summary>
    public int? NumBeams { get; set; }

    /// <summary>Beam search: score = sum log-prob / new-tokens^length_penalty.</summary>
    public double? LengthPenalty { get; set; }

    /// <summary>Beam search: true, false or "never".</summary>
    public JsonElement? EarlyStopping { get; set; }

    /// <summary>Fewest tokens before EOS or a stop token may end the output.</summary>
    public int? MinTokens { get; set; }

    /// <summary>Keep generating past EOS.</summary>
    public bool? IgnoreEos { get; set; }

    /// <summary>Token ids that end the output.</summary>
    public List<int>? StopTokenIds { get; set; }

    /// <summary>No n-gram of this size occurs twice.</summary>
    public int? NoRepeatNgramSize { get; set; }

    /// <summary>
    /// Structured output, valid by construction (constrained decoding): <c>{"type": "text"}</c> (the default),
    /// <c>{"type": "json_object"}</c> (any JSON object) or <c>{"type": "json_schema", "json_schema": {"name", "schema",
    /// "strict"}}</c> (a value of the schema). Tokens that cannot continue a valid output are masked before each token
    /// is chosen, so the output parses (and validates) unless max_tokens or a stop string ends it first
    /// (finish_reason "length": a prefix). A schema keyword that is not supported is a 400 naming it.
    /// </summary>
    public ResponseFormat? ResponseFormat { get; set; }
}

/// <summary>
/// OpenAI's <c>response_format</c>. Schemas: type (or a list, nullable), enum/const, object properties (written in
/// declared order) / required / additionalProperties, array items / minItems / maxItems, string pattern / format
/// (date, time, date-time, uuid, ipv4) / minLength / maxLength, number and integer minimum / maximum / exclusive
/// bounds, anyOf, oneOf of different types, $ref / $defs (recursion included); annotations are ignored. JSON is
/// written compactly: at most one space or newline between tokens, nesting at most 32 deep, numbers of at most 15
/// integer and 12 fraction digits.
/// </summary>
public sealed class ResponseFormat
{
    /// <summary><c>text</c>, <c>json_object</c> or <c>json_schema</c>.</summary>
    /// <example>json_schema</example>
    public string? Type { get; set; }

    /// <summary>With <c>json_schema</c>: the schema and its name.</summary>
    public JsonSchemaFormat? JsonSchema { get; set; }
}

/// <summary>The <c>json_schema</c> of a <see cref="ResponseFormat"/>.</summary>
public sealed class JsonSchemaFormat
{
    /// <summary>The schema's name (letters, digits, '_' and '-', at most 64).</summary>
    /// <example>person</example>
    public string? Name { get; set; }

    /// <summary>What the schema is for (not used).</summary>
    public string? Description { get; set; }

    /// <summary>The JSON Schema the output must be a value of.</summary>
    public JsonElement? Schema { get; set; }

    /// <summary>OpenAI's strict mode. Outputs here always follow the schema exactly, strict or not.</summary>
    public bool? Strict { get; set; }
}

/// <summary>Streaming options.</summary>
public sealed class StreamOptions
{
    /// <summary>Send a last chunk with usage before [DONE].</summary>
    public bool? IncludeUsage { get; set; }
}

/// <summary>POST /v1/completions.</summary>
public sealed class CompletionRequest : SamplingFields
{
    /// <summary>A string, a list of strings, a list of token ids, or a list of token-id lists.</summary>
    /// <example>To be, or not to be</example>
    public JsonElement? Prompt { get; set; }

    /// <summary>Return the prompt before the completion.</summary>
    public bool? Echo { get; set; }

    /// <summary>Log-probs of the chosen token and this many alternatives (0..20).</summary>
    public int? Logprobs { get; set; }

    /// <summary>Text after the completion (not supported; must be empty).</summary>
    public string? Suffix { get; set; }

    /// <summary>
    /// Add the tokenizer's special tokens (its post-processor's BOS, as Llama and Mistral tokenizers have) to text
    /// prompts; default true, as vLLM. Special tokens written in the prompt are matched either way.
    /// </summary>
    public bool? AddSpecialTokens { get; set; }
}

/// <summary>
/// One chat message: content is a string, null, or a list of text parts. An assistant message may carry
/// <c>tool_calls</c> (OpenAI's <c>{id, type: "function", function: {name, arguments}}</c>, arguments a JSON string);
/// a <c>tool</c> message answers one with <c>tool_call_id</c>. Every field reaches the model's chat template.
/// </summary>
public sealed class ChatMessage
{
    /// <summary>system, developer, user, assistant or tool.</summary>
    /// <example>user</example>
    public string? Role { get; set; }

    /// <summary>Message text (or text parts).</summary>
    /// <example>Say something in the style of Shakespeare.</example>
    public JsonElement? Content { get; set; }

    /// <summary>Participant or tool name.</summary>
    public string? Name { get; set; }

    /// <summary>An assistant's tool calls.</summary>
    public JsonElement? ToolCalls { get; set; }

    /// <summary>The tool call a <c>tool</c> message answers.</summary>
    public string? ToolCallId { get; set; }

    /// <summary>An assistant's reasoning, for templates that show earlier thinking.</summary>
    public string? ReasoningContent { get; set; }
}

/// <summary>The fields of a request that asks for a chat prompt: the conversation and what its template needs.</summary>
public interface IChatPromptFields
{
    /// <summary>The conversation so far.</summary>
    List<ChatMessage>? Messages { get; }

    /// <summary>Tools (<c>{"type": "function", "function": {name, description, parameters}}</c>) for the template.</summary>
    JsonElement? Tools { get; }

    /// <summary>vLLM's <c>chat_template_kwargs</c>: extra template variables such as <c>{"enable_thinking": false}</c>.</summary>
    JsonElement? ChatTemplateKwargs { get; }

    /// <summary>End the prompt where the assistant's reply begins (default true).</summary>
    bool? AddGenerationPrompt { get; }
}

/// <summary>POST /v1/chat/completions.</summary>
public sealed class ChatCompletionRequest : SamplingFields, IChatPromptFields
{
    /// <summary>The conversation so far.</summary>
    public List<ChatMessage>? Messages { get; set; }

    /// <summary>
    /// Tools the model may call: <c>{"type": "function", "function": {"name", "description", "parameters"}}</c>, passed to
    /// its chat template; parameters are a JSON Schema (what response_format's json_schema supports).
    /// </summary>
    public JsonElement? Tools { get; set; }

    /// <summary>
    /// <c>"none"</c>, <c>"auto"</c> (the default with tools: the model decides, and a call it opens in its family's syntax
    /// is constrained to a valid one), <c>"required"</c> (the answer is one or more calls, by constrained decoding) or
    /// <c>{"type": "function", "function": {"name": ...}}</c> (a call of that function).
    /// </summary>
    public JsonElement? ToolChoice { get; set; }

    /// <summary>Whether one answer may hold several calls (default true).</summary>
    public bool? ParallelToolCalls { get; set; }

    /// <summary>Extra variables for the model's chat template (vLLM's name), e.g. <c>{"enable_thinking": false}</c>.</summary>
    public JsonElement? ChatTemplateKwargs { get; set; }

    /// <summary>End the prompt where the assistant's reply begins (default true; vLLM's extension).</summary>
    public bool? AddGenerationPrompt { get; set; }

    /// <summary>Current OpenAI name for max_tokens (the .NET SDK 2.x sends it).</summary>
    public int? MaxCompletionTokens { get; set; }

    /// <summary>Return log-probs of the output tokens.</summary>
    public bool? Logprobs { get; set; }

    /// <summary>Alternatives per position with logprobs (0..20).</summary>
    public int? TopLogprobs { get; set; }
}

/// <summary>The API's finish_reason values.</summary>
public static class FinishReasons
{
    public static string? ToApi(this GenAI.Core.Generation.FinishReason? finish) => finish switch
    {
        GenAI.Core.Generation.FinishReason.Stop => "stop",
        GenAI.Core.Generation.FinishReason.Length => "length",
        _ => null,
    };

    /// <summary>Chat's finish_reason: <c>tool_calls</c> when the answer called tools and ended by itself.</summary>
    public static string? ToApi(this GenAI.Core.Generation.FinishReason? finish, bool calledTools) =>
        calledTools && finish == GenAI.Core.Generation.FinishReason.Stop ? "tool_calls" : finish.ToApi();
}

/// <summary>Token counts.</summary>
public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens)
{
    /// <summary>Chat: the completion tokens that were the model's reasoning (its think block).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public CompletionTokensDetails? CompletionTokensDetails { get; init; }
}

/// <summary>A breakdown of completion tokens.</summary>
/// <param name="ReasoningTokens">Tokens of the think block (its tags included).</param>
public sealed record CompletionTokensDetails(int ReasoningTokens);

/// <summary>Legacy completions log-probs.</summary>
public sealed record CompletionLogprobs(List<string> Tokens, List<float> TokenLogprobs, List<Dictionary<string, float>> TopLogprobs, List<int> TextOffset);

/// <summary>One completion choice.</summary>
public sealed record CompletionChoice(
    string Text,
    int Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] CompletionLogprobs? Logprobs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason)
{
    /// <summary>Beam search: the sequence's score.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Score { get; init; }
}

/// <summary>A completions response or stream chunk (object "text_completion").</summary>
public sealed record CompletionResponse(string Id, string Object, long Created, string Model, string SystemFingerprint, List<CompletionChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage);

/// <summary>An assistant message or a streamed delta.</summary>
public sealed record ChatMessageOut(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content)
{
    /// <summary>A reasoning model's thinking (vLLM's and DeepSeek's field), apart from the answer in content.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ReasoningContent { get; init; }

    /// <summary>The functions the assistant calls (in a stream: the calls' pieces, by index).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<ChatToolCallOut>? ToolCalls { get; init; }
}

/// <summary>
/// A tool call (<c>{"id", "type": "function", "function": {"name", "arguments"}}</c>, arguments a JSON string); in a
/// stream the first piece of a call carries its index, id, type and name, later pieces the index and argument text.
/// </summary>
public sealed record ChatToolCallOut(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Id,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Type,
    ChatFunctionCallOut Function);

/// <summary>The function of a tool call.</summary>
public sealed record ChatFunctionCallOut(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name,
    string Arguments);

/// <summary>One token's log-prob in chat format.</summary>
public sealed record ChatTokenLogprob(string Token, float Logprob, int[] Bytes, List<ChatTopLogprob> TopLogprobs);

/// <summary>An alternative token.</summary>
public sealed record ChatTopLogprob(string Token, float Logprob, int[] Bytes);

/// <summary>Chat log-probs.</summary>
public sealed record ChatLogprobs(List<ChatTokenLogprob> Content);

/// <summary>One chat choice (message) or streamed choice (delta).</summary>
public sealed record ChatChoice(
    int Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ChatMessageOut? Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ChatMessageOut? Delta,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] ChatLogprobs? Logprobs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason);

/// <summary>A chat completion (object "chat.completion") or chunk ("chat.completion.chunk").</summary>
public sealed record ChatCompletionResponse(string Id, string Object, long Created, string Model, string SystemFingerprint, List<ChatChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage);

/// <summary>
/// A model (OpenAI's fields plus GenAI's). <c>architecture</c> is the Hugging Face class (e.g. <c>LlamaForCausalLM</c>),
/// <c>model_type</c> config.json's; <c>context_length</c> (also <c>max_model_len</c>, vLLM's name) is the longest prompt
/// plus output served: the model's context, or the server's MaxSequenceLength if smaller. <c>status</c> is <c>ready</c>
/// (a revision is serving), <c>loading</c> or <c>failed</c> (with <c>error</c>); <c>rejected_revisions</c> lists revisions
/// that failed to load, with the reason. <c>quantization</c> is <c>int8</c> when the linear layers' weights are int8
/// (the server's Quantize setting); <c>dtype</c> is then the dtype of the rest and of the activations.
/// </summary>
public sealed record ModelCard(string Id, string Object, long Created, string OwnedBy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Revision,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Architecture,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ModelType,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Parameters,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? ContextLength,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? MaxModelLen,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Dtype,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Device,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] List<RejectedRevision>? RejectedRevisions,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Quantization = null);

/// <summary>A revision the server refused to serve, and why.</summary>
public sealed record RejectedRevision(string Revision, string Reason);

/// <summary>GET /v1/models.</summary>
public sealed record ModelList(string Object, List<ModelCard> Data);

/// <summary>
/// POST /tokenize (as vLLM): either <c>prompt</c> (with <c>add_special_tokens</c>, default true: the tokenizer's BOS as
/// a completion prompt gets it), or <c>messages</c> (with <c>add_generation_prompt</c>, <c>tools</c>,
/// <c>chat_template_kwargs</c>) for the ids of the rendered chat prompt exactly as the chat endpoint feeds them.
/// </summary>
public sealed class TokenizeRequest : IChatPromptFields
{
    /// <example>gpt2-tiny</example>
    public string? Model { get; set; }

    /// <example>Hello world</example>
    public string? Prompt { get; set; }

    /// <summary>Add the tokenizer's special tokens (its post-processor's BOS) to <c>prompt</c>; default true.</summary>
    public bool? AddSpecialTokens { get; set; }

    /// <summary>A conversation to render with the model's chat template instead of <c>prompt</c>.</summary>
    public List<ChatMessage>? Messages { get; set; }

    /// <summary>Tools for the chat template.</summary>
    public JsonElement? Tools { get; set; }

    /// <summary>Extra chat template variables.</summary>
    public JsonElement? ChatTemplateKwargs { get; set; }

    /// <summary>End the chat prompt where the assistant's reply begins (default true).</summary>
    public bool? AddGenerationPrompt { get; set; }
}

/// <summary>Tokenize result.</summary>
public sealed record TokenizeResponse(List<int> Tokens, int Count, int MaxModelLen);

/// <summary>POST /detokenize (as vLLM).</summary>
public sealed class DetokenizeRequest
{
    /// <example>gpt2-tiny</example>
    public string? Model { get; set; }

    /// <example>[15496, 995]</example>
    public List<int>? Tokens { get; set; }
}

/// <summary>Detokenize result.</summary>
public sealed record DetokenizeResponse(string Prompt);
