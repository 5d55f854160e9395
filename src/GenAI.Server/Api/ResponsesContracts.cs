using System.Text.Json;
using System.Text.Json.Serialization;

namespace GenAI.Server.Api;

/// <summary>
/// POST /v1/responses: OpenAI's Responses API request. What GenAI cannot do is a 400 naming the field
/// (<c>truncation: "auto"</c>, <c>background: true</c>, <c>conversation</c>, <c>prompt</c>, <c>top_logprobs</c>, tools
/// other than functions, images and files in the input);
/// <c>user</c>, <c>safety_identifier</c>, <c>prompt_cache_key</c>, <c>service_tier</c> and <c>stream_options</c> are
/// accepted and ignored.
/// </summary>
public sealed class CreateResponseRequest
{
    /// <summary>Model id (see GET /v1/models); optional when the server serves one model.</summary>
    /// <example>qwen3-tiny</example>
    public string? Model { get; set; }

    /// <summary>
    /// A string (one user message) or a list of items: messages (<c>{"role": "user" | "system" | "developer" |
    /// "assistant", "content": string or [{"type": "input_text" | "output_text", "text"}]}</c>), <c>function_call</c>
    /// (<c>{"call_id", "name", "arguments"}</c>), <c>function_call_output</c> (<c>{"call_id", "output"}</c>) and
    /// <c>reasoning</c> items (given to the next assistant turn as its reasoning).
    /// </summary>
    /// <example>Tell me a story.</example>
    public JsonElement? Input { get; set; }

    /// <summary>A system message placed first, for this response only: not carried over by <c>previous_response_id</c>.</summary>
    /// <example>Answer in one sentence.</example>
    public string? Instructions { get; set; }

    /// <summary>A stored response to continue: its input and output come before this request's input.</summary>
    public string? PreviousResponseId { get; set; }

    /// <summary>Keep the response (default true), to read it back or continue from it; stored responses survive restarts.</summary>
    public bool? Store { get; set; }

    /// <summary>Most tokens to generate (default: to the end of the context).</summary>
    /// <example>64</example>
    public int? MaxOutputTokens { get; set; }

    /// <summary>0 = greedy; 0..100 (default 1, or the model's generation_config.json).</summary>
    /// <example>0.7</example>
    public double? Temperature { get; set; }

    /// <summary>Nucleus sampling, (0, 1].</summary>
    public double? TopP { get; set; }

    /// <summary>GenAI's extension (as on chat): the seed of the response's own random stream; the same seed gives the same output.</summary>
    /// <example>42</example>
    public long? Seed { get; set; }

    /// <summary>
    /// Function tools, flat as the Responses API has them: <c>{"type": "function", "name", "description", "parameters",
    /// "strict"}</c>; they reach the model's chat template as chat tools.
    /// </summary>
    public JsonElement? Tools { get; set; }

    /// <summary>
    /// <c>"auto"</c> (default), <c>"none"</c>, <c>"required"</c> or <c>{"type": "function", "name"}</c>. The last two are
    /// constrained decoding: the output is one or more valid calls (arguments that validate against the tool's parameters).
    /// </summary>
    public JsonElement? ToolChoice { get; set; }

    /// <summary>Whether the model may call several tools in one turn (default true).</summary>
    public bool? ParallelToolCalls { get; set; }

    /// <summary>Most tool calls in the response (echoed; not enforced).</summary>
    public int? MaxToolCalls { get; set; }

    /// <summary>The output's format: <c>{"format": {"type": "text" | "json_object" | "json_schema", ...}}</c>.</summary>
    public ResponseTextConfig? Text { get; set; }

    /// <summary>Up to 16 string pairs kept with the response (keys up to 64 characters, values up to 512).</summary>
    public Dictionary<string, string>? Metadata { get; set; }

    /// <summary>Stream the response as OpenAI's typed server-sent events.</summary>
    public bool? Stream { get; set; }

    /// <summary><c>"disabled"</c> (the default: a conversation longer than the context is a 400); <c>"auto"</c> is not supported.</summary>
    public string? Truncation { get; set; }

    /// <summary>
    /// <c>{"effort": "none" | "minimal" | "low" | "medium" | "high" | "xhigh"}</c>: passed to the chat template as
    /// <c>enable_thinking</c> (false for none and minimal, true otherwise), which templates such as Qwen3's read.
    /// </summary>
    public ResponseReasoningConfig? Reasoning { get; set; }

    /// <summary>Extra output to include; <c>reasoning.encrypted_content</c> is accepted (reasoning is never encrypted here).</summary>
    public List<string>? Include { get; set; }

    /// <summary>Run in the background: not supported (false only).</summary>
    public bool? Background { get; set; }

    /// <summary>OpenAI's conversations: not supported (use <c>previous_response_id</c>).</summary>
    public JsonElement? Conversation { get; set; }

    /// <summary>OpenAI's stored prompt templates: not supported.</summary>
    public JsonElement? Prompt { get; set; }

    /// <summary>Log-probs of the output: not supported.</summary>
    public int? TopLogprobs { get; set; }

    /// <summary>End-user id (logged only).</summary>
    public string? User { get; set; }
}

/// <summary>The <c>text</c> configuration of a response.</summary>
public sealed class ResponseTextConfig
{
    /// <summary>The output's format (default <c>{"type": "text"}</c>).</summary>
    public ResponseTextFormat? Format { get; set; }
}

/// <summary>
/// A response's output format, flat as the Responses API has it: <c>{"type": "text"}</c>, <c>{"type": "json_object"}</c>
/// or <c>{"type": "json_schema", "name", "schema", "strict", "description"}</c>. JSON formats are constrained
/// decoding, as <c>response_format</c> on chat: the output always parses and validates unless max_output_tokens cuts it.
/// </summary>
public sealed class ResponseTextFormat
{
    /// <summary><c>text</c>, <c>json_object</c> or <c>json_schema</c>.</summary>
    /// <example>json_schema</example>
    public string? Type { get; set; }

    /// <summary>The schema's name (letters, digits, '_' and '-', at most 64).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; set; }

    /// <summary>What the schema is for (not used).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Description { get; set; }

    /// <summary>The JSON Schema the output must be a value of.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Schema { get; set; }

    /// <summary>OpenAI's strict mode; outputs here always follow the schema exactly.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Strict { get; set; }
}

/// <summary>The <c>reasoning</c> configuration of a response.</summary>
public sealed class ResponseReasoningConfig
{
    /// <summary>none, minimal, low, medium, high or xhigh.</summary>
    /// <example>low</example>
    public string? Effort { get; set; }

    /// <summary>auto, concise or detailed (accepted; GenAI writes no summaries).</summary>
    public string? Summary { get; set; }
}

/// <summary>OpenAI's response object (GET /v1/responses/{id}, POST /v1/responses, and inside stream events).</summary>
public sealed record ResponseObject
{
    /// <summary><c>resp_</c> and 32 hex digits.</summary>
    public required string Id { get; init; }

    public string Object { get; init; } = "response";

    /// <summary>Unix seconds.</summary>
    public long CreatedAt { get; init; }

    /// <summary><c>in_progress</c> (while streaming), <c>completed</c>, <c>incomplete</c> (see incomplete_details) or <c>failed</c> (see error).</summary>
    public string Status { get; init; } = ResponseStatus.InProgress;

    /// <summary>Always false.</summary>
    public bool Background { get; init; }

    /// <summary>Why a failed response failed.</summary>
    public ResponseError? Error { get; init; }

    /// <summary>Why an incomplete response stopped: <c>max_output_tokens</c>.</summary>
    public IncompleteDetails? IncompleteDetails { get; init; }

    /// <summary>The request's instructions.</summary>
    public string? Instructions { get; init; }

    public int? MaxOutputTokens { get; init; }

    public int? MaxToolCalls { get; init; }

    public required string Model { get; init; }

    /// <summary>Message, reasoning and function_call items, in the order the model wrote them.</summary>
    public List<ResponseItem> Output { get; init; } = [];

    /// <summary>The text of every output_text part, joined (the SDKs' convenience).</summary>
    public string OutputText => string.Concat(Output.OfType<MessageItem>().SelectMany(m => m.Content).OfType<OutputTextPart>().Select(p => p.Text));

    public bool ParallelToolCalls { get; init; } = true;

    public string? PreviousResponseId { get; init; }

    public ResponseReasoningConfig Reasoning { get; init; } = new();

    public bool Store { get; init; } = true;

    /// <summary>The temperature used.</summary>
    public double Temperature { get; init; } = 1.0;

    public ResponseTextConfig Text { get; init; } = new() { Format = new ResponseTextFormat { Type = "text" } };

    /// <summary>As the request gave it (<c>"auto"</c> by default).</summary>
    public JsonElement ToolChoice { get; init; } = JsonSerializer.SerializeToElement("auto");

    public List<FunctionToolDefinition> Tools { get; init; } = [];

    /// <summary>The top_p used.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Always <c>disabled</c>.</summary>
    public string Truncation { get; init; } = "disabled";

    /// <summary>Token counts (null until the response ends).</summary>
    public ResponseUsage? Usage { get; init; }

    public string? User { get; init; }

    public Dictionary<string, string> Metadata { get; init; } = [];

    /// <summary>Unix seconds when it ended.</summary>
    public long? CompletedAt { get; init; }

    /// <summary>The model revision that produced it (as on chat and completions).</summary>
    public string? SystemFingerprint { get; init; }
}

/// <summary>The states of a response.</summary>
public static class ResponseStatus
{
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Incomplete = "incomplete";
    public const string Failed = "failed";
}

/// <summary>Why a response failed.</summary>
public sealed record ResponseError(string Code, string Message);

/// <summary>Why a response is incomplete.</summary>
public sealed record IncompleteDetails(string Reason);

/// <summary>Token counts of a response.</summary>
public sealed record ResponseUsage(int InputTokens, InputTokensDetails InputTokensDetails, int OutputTokens, OutputTokensDetails OutputTokensDetails, int TotalTokens);

/// <summary>Input token details.</summary>
public sealed record InputTokensDetails(int CachedTokens);

/// <summary>Output token details: the tokens of reasoning items.</summary>
public sealed record OutputTokensDetails(int ReasoningTokens);

/// <summary>A function tool as the Responses API defines one (flat: no nested <c>function</c> object).</summary>
public sealed record FunctionToolDefinition(
    string Name,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Description,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] JsonElement? Parameters,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] bool? Strict)
{
    [JsonPropertyOrder(-1)]
    public string Type => "function";
}

/// <summary>An item of a conversation: what the user and the model said, the model's tool calls and their results.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(MessageItem), "message")]
[JsonDerivedType(typeof(FunctionCallItem), "function_call")]
[JsonDerivedType(typeof(FunctionCallOutputItem), "function_call_output")]
[JsonDerivedType(typeof(ReasoningItem), "reasoning")]
public abstract record ResponseItem
{
    /// <summary><c>msg_</c>, <c>fc_</c>, <c>fco_</c> or <c>rs_</c> and 32 hex digits (or the id the client gave).</summary>
    public required string Id { get; init; }
}

/// <summary>A message: <c>user</c>, <c>system</c> and <c>developer</c> ones carry input_text parts, <c>assistant</c> ones output_text parts.</summary>
public sealed record MessageItem : ResponseItem
{
    /// <summary><c>in_progress</c>, <c>completed</c> or <c>incomplete</c>.</summary>
    public string Status { get; init; } = ResponseStatus.Completed;

    public required string Role { get; init; }

    public List<ContentPart> Content { get; init; } = [];
}

/// <summary>A call of a function tool; <c>arguments</c> is a JSON string.</summary>
public sealed record FunctionCallItem : ResponseItem
{
    public string Status { get; init; } = ResponseStatus.Completed;

    /// <summary>Matches the <c>function_call_output</c> that answers it.</summary>
    public required string CallId { get; init; }

    public required string Name { get; init; }

    public required string Arguments { get; init; }
}

/// <summary>The result of a function call, sent back by the client.</summary>
public sealed record FunctionCallOutputItem : ResponseItem
{
    public string Status { get; init; } = ResponseStatus.Completed;

    public required string CallId { get; init; }

    public required string Output { get; init; }
}

/// <summary>The model's thinking, as reasoning_text content (GenAI writes no summaries).</summary>
public sealed record ReasoningItem : ResponseItem
{
    public string Status { get; init; } = ResponseStatus.Completed;

    public List<ContentPart> Summary { get; init; } = [];

    public List<ContentPart> Content { get; init; } = [];
}

/// <summary>A part of a message's (or reasoning item's) content.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(InputTextPart), "input_text")]
[JsonDerivedType(typeof(OutputTextPart), "output_text")]
[JsonDerivedType(typeof(RefusalPart), "refusal")]
[JsonDerivedType(typeof(ReasoningTextPart), "reasoning_text")]
[JsonDerivedType(typeof(SummaryTextPart), "summary_text")]
public abstract record ContentPart;

/// <summary>Text a user, system or developer message carries.</summary>
public sealed record InputTextPart(string Text) : ContentPart;

/// <summary>Text the model wrote.</summary>
public sealed record OutputTextPart(string Text) : ContentPart
{
    public List<JsonElement> Annotations { get; init; } = [];

    public List<JsonElement> Logprobs { get; init; } = [];
}

/// <summary>A refusal (in assistant messages sent back as input).</summary>
public sealed record RefusalPart(string Refusal) : ContentPart;

/// <summary>Reasoning text.</summary>
public sealed record ReasoningTextPart(string Text) : ContentPart;

/// <summary>A reasoning summary's text.</summary>
public sealed record SummaryTextPart(string Text) : ContentPart;

/// <summary>DELETE /v1/responses/{id}.</summary>
public sealed record ResponseDeleted(string Id, bool Deleted)
{
    [JsonPropertyOrder(1)]
    public string Object => "response";
}

/// <summary>GET /v1/responses/{id}/input_items.</summary>
public sealed record ResponseItemList(
    List<ResponseItem> Data,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FirstId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? LastId,
    bool HasMore)
{
    [JsonPropertyOrder(-1)]
    public string Object => "list";
}

/// <summary>
/// A streamed event: <c>event: {type}</c> and <c>data: {json}</c>; every event has <c>type</c> and a
/// <c>sequence_number</c> that counts up from 0 within the stream.
/// </summary>
public abstract record ResponseStreamEvent(
    [property: JsonPropertyOrder(-2)] string Type)
{
    [JsonPropertyOrder(-1)]
    public int SequenceNumber { get; set; }
}

/// <summary><c>response.created</c>, <c>response.in_progress</c>, <c>response.completed</c>, <c>response.incomplete</c>, <c>response.failed</c>.</summary>
public sealed record ResponseLifecycleEvent(string Type, ResponseObject Response) : ResponseStreamEvent(Type);

/// <summary><c>response.output_item.added</c> / <c>.done</c>.</summary>
public sealed record OutputItemEvent(string Type, int OutputIndex, ResponseItem Item) : ResponseStreamEvent(Type);

/// <summary><c>response.content_part.added</c> / <c>.done</c>.</summary>
public sealed record ContentPartEvent(string Type, string ItemId, int OutputIndex, int ContentIndex, ContentPart Part) : ResponseStreamEvent(Type);

/// <summary><c>response.output_text.delta</c>.</summary>
public sealed record OutputTextDeltaEvent(string ItemId, int OutputIndex, int ContentIndex, string Delta) : ResponseStreamEvent("response.output_text.delta")
{
    public List<JsonElement> Logprobs { get; init; } = [];
}

/// <summary><c>response.output_text.done</c>.</summary>
public sealed record OutputTextDoneEvent(string ItemId, int OutputIndex, int ContentIndex, string Text) : ResponseStreamEvent("response.output_text.done")
{
    public List<JsonElement> Logprobs { get; init; } = [];
}

/// <summary><c>response.reasoning_text.delta</c>.</summary>
public sealed record ReasoningTextDeltaEvent(string ItemId, int OutputIndex, int ContentIndex, string Delta) : ResponseStreamEvent("response.reasoning_text.delta");

/// <summary><c>response.reasoning_text.done</c>.</summary>
public sealed record ReasoningTextDoneEvent(string ItemId, int OutputIndex, int ContentIndex, string Text) : ResponseStreamEvent("response.reasoning_text.done");

/// <summary><c>response.function_call_arguments.delta</c>.</summary>
public sealed record FunctionCallArgumentsDeltaEvent(string ItemId, int OutputIndex, string Delta) : ResponseStreamEvent("response.function_call_arguments.delta");

/// <summary><c>response.function_call_arguments.done</c>.</summary>
public sealed record FunctionCallArgumentsDoneEvent(string ItemId, int OutputIndex, string Name, string Arguments) : ResponseStreamEvent("response.function_call_arguments.done");
