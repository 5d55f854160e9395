using System.ClientModel;
using System.ComponentModel;
using System.Text;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The SDK marks its Responses client experimental; the API is stable.

namespace GenAI.Server.Tests;

/// <summary>
/// The real server process on 127.0.0.1 with a random-weight Qwen3 (1024 positions), driven by the official OpenAI .NET
/// SDK's <see cref="ResponsesClient"/> and by Microsoft's Agent Framework (a <see cref="ChatClientAgent"/> over the
/// Responses API, as Microsoft.Agents.AI.OpenAI builds one), with the data root in a temporary folder.
/// </summary>
public sealed class ResponsesSdkEndToEndTests : IAsyncLifetime
{
    private const string Qwen = "qwen3-tiny-ctx1024";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "genai-responses-sdk-" + Guid.NewGuid().ToString("N"));
    private ServerProcess _server = null!;
    private ResponsesClient _responses = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerProcess.StartAsync(Path.Combine(AppContext.BaseDirectory, "GenAI.Server.dll"),
            ["--model", TestPaths.DecoderModelWithContext("qwen3-tiny", 1024), "--data-root", Path.Combine(_root, "data"), "--api-key", "test-key"]);
        var client = new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = new Uri(_server.BaseAddress, "/v1") });
        _responses = client.GetResponsesClient();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private static CreateResponseOptions Options(string text, int maxOutputTokens = 8) =>
        new(Qwen, [ResponseItem.CreateUserMessageItem(text)]) { Temperature = 0, MaxOutputTokenCount = maxOutputTokens };

    [Fact]
    public async Task CreateStoreContinueGetAndDelete()
    {
        var stateless = Options("Tell me a story.");
        stateless.StoredOutputEnabled = false;
        stateless.Instructions = "Be brief.";
        ResponseResult once = await _responses.CreateResponseAsync(stateless);
        Assert.StartsWith("resp_", once.Id);
        Assert.Equal(Qwen, once.Model);
        Assert.False(string.IsNullOrEmpty(once.GetOutputText()));
        Assert.True(once.Usage.InputTokenCount > 0);
        Assert.InRange(once.Usage.OutputTokenCount, 1, 8);
        Assert.Equal(0, once.Usage.OutputTokenDetails.ReasoningTokenCount);
        var missing = await Assert.ThrowsAsync<ClientResultException>(() => _responses.GetResponseAsync(once.Id));
        Assert.Equal(404, missing.Status);

        ResponseResult first = await _responses.CreateResponseAsync(Options("Hello there."));
        var followUp = Options("And then?");
        followUp.PreviousResponseId = first.Id;
        ResponseResult second = await _responses.CreateResponseAsync(followUp);
        Assert.Equal(first.Id, second.PreviousResponseId);
        // The first turn (input and output) is the second's history: more input than the first's input and output together.
        Assert.True(second.Usage.InputTokenCount > first.Usage.InputTokenCount + first.Usage.OutputTokenCount);

        ResponseResult read = await _responses.GetResponseAsync(first.Id);
        Assert.Equal((first.Id, first.GetOutputText(), first.Usage.OutputTokenCount), (read.Id, read.GetOutputText(), read.Usage.OutputTokenCount));
        var message = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(read.OutputItems));
        Assert.Equal(MessageRole.Assistant, message.Role);

        // The follow-up's own input items (the SDK pages through them).
        var inputItems = new List<ResponseItem>();
        await foreach (ResponseItem item in _responses.GetResponseInputItemsAsync(second.Id)) inputItems.Add(item);
        var asked = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(inputItems));
        Assert.Equal(("And then?", MessageRole.User), (asked.Content[0].Text, asked.Role));

        ResponseDeletionResult deleted = await _responses.DeleteResponseAsync(first.Id);
        Assert.True(deleted.Deleted);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => _responses.GetResponseAsync(first.Id))).Status);
        var unknown = Options("Hi");
        unknown.PreviousResponseId = "resp_unknown";
        Assert.Equal(400, (await Assert.ThrowsAsync<ClientResultException>(() => _responses.CreateResponseAsync(unknown))).Status);
    }

    [Fact]
    public async Task StreamingUpdatesAddUpToTheResponse()
    {
        ResponseResult whole = await _responses.CreateResponseAsync(Options("Tell me a story.", 10));
        var streaming = Options("Tell me a story.", 10);
        streaming.StreamingEnabled = true;
        var text = new StringBuilder();
        var kinds = new List<string>();
        ResponseResult? completed = null;
        int expectedSequence = 0;
        await foreach (StreamingResponseUpdate update in await _responses.CreateResponseStreamingAsync(streaming))
        {
            Assert.Equal(expectedSequence++, update.SequenceNumber);
            kinds.Add(update.GetType().Name);
            if (update is StreamingResponseOutputTextDeltaUpdate delta) text.Append(delta.Delta);
            if (update is StreamingResponseCompletedUpdate done) completed = done.Response;
            if (update is StreamingResponseIncompleteUpdate incomplete) completed = incomplete.Response;
        }
        Assert.Equal(whole.GetOutputText(), text.ToString());
        Assert.NotNull(completed);
        Assert.Equal(whole.GetOutputText(), completed.GetOutputText());
        Assert.Equal(nameof(StreamingResponseCreatedUpdate), kinds[0]);
        Assert.Equal(nameof(StreamingResponseInProgressUpdate), kinds[1]);
        Assert.Contains(nameof(StreamingResponseOutputItemAddedUpdate), kinds);
        Assert.Contains(nameof(StreamingResponseContentPartAddedUpdate), kinds);
        Assert.Contains(nameof(StreamingResponseOutputTextDoneUpdate), kinds);
        Assert.Contains(nameof(StreamingResponseOutputItemDoneUpdate), kinds);
    }

    [Fact]
    public async Task TextFormatWithAJsonSchemaParsesAndValidates()
    {
        const string Schema = """
            {"type": "object", "properties": {"answer": {"enum": ["yes", "no"]}, "confidence": {"type": "integer", "minimum": 0, "maximum": 10},
             "note": {"type": ["string", "null"], "maxLength": 12}}, "required": ["answer", "confidence", "note"], "additionalProperties": false}
            """;
        foreach (float temperature in new[] { 0f, 1f })
        {
            var options = Options("Is it raining?", 200);
            options.Temperature = temperature;
            options.TextOptions = new ResponseTextOptions
            {
                TextFormat = ResponseTextFormat.CreateJsonSchemaFormat("verdict", BinaryData.FromString(Schema), jsonSchemaIsStrict: true),
            };
            ResponseResult response = await _responses.CreateResponseAsync(options);
            Assert.Equal(OpenAI.Responses.ResponseStatus.Completed, response.Status);
            StructuredOutputTests.AssertValidates(response.GetOutputText(), Schema);
        }
    }

    [Fact]
    public async Task ANamedToolChoiceIsAFunctionCallItem()
    {
        var options = Options("Weather?", 100);
        options.Tools.Add(ResponseTool.CreateFunctionTool("get_weather",
            BinaryData.FromString("""{"type": "object", "properties": {"celsius": {"type": "boolean"}}, "required": ["celsius"], "additionalProperties": false}"""),
            strictModeEnabled: true, functionDescription: "The weather"));
        options.ToolChoice = ResponseToolChoice.CreateFunctionChoice("get_weather");
        ResponseResult response = await _responses.CreateResponseAsync(options);
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(response.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.StartsWith("call_", call.CallId);
        using var arguments = System.Text.Json.JsonDocument.Parse(call.FunctionArguments);
        Assert.Contains(arguments.RootElement.GetProperty("celsius").ValueKind, new[] { System.Text.Json.JsonValueKind.True, System.Text.Json.JsonValueKind.False });

        // The tool's result goes back as a function_call_output item continuing the stored response.
        var next = new CreateResponseOptions(Qwen, [ResponseItem.CreateFunctionCallOutputItem(call.CallId, "-3 and snow")])
        {
            PreviousResponseId = response.Id, Temperature = 0, MaxOutputTokenCount = 6,
        };
        next.Tools.Add(options.Tools[0]); // tools are per request, as on OpenAI
        ResponseResult answer = await _responses.CreateResponseAsync(next);
        Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(answer.OutputItems));
        Assert.True(answer.Usage.InputTokenCount > response.Usage.InputTokenCount + response.Usage.OutputTokenCount);
    }

    [Description("The weather in Oslo")]
    private static string GetWeather([Description("Degrees Celsius rather than Fahrenheit")] bool celsius) => celsius ? "-3 and snow" : "27 and snow";

    [Fact]
    public async Task AnAgentFrameworkAgentRunsATurnCallsAToolAndKeepsItsSessionOnTheServer()
    {
        int calls = 0;
        var weather = AIFunctionFactory.Create((bool celsius) => { calls++; return GetWeather(celsius); }, "get_weather", "The weather in Oslo");
        AIAgent agent = new ChatClientAgent(_responses.AsIChatClient(Qwen), instructions: "You are a weather assistant.", name: "weather", tools: [weather]);
        AgentSession session = await agent.CreateSessionAsync();

        var first = await agent.RunAsync("Hello!", session, new ChatClientAgentRunOptions(new ChatOptions { Temperature = 0, MaxOutputTokens = 6 }));
        Assert.False(string.IsNullOrEmpty(first.Text));
        Assert.StartsWith("resp_", first.ResponseId);

        // A required tool: the agent's function-calling loop runs the C# function and sends its result back, then the model answers.
        var second = await agent.RunAsync("What is the weather?", session, new ChatClientAgentRunOptions(new ChatOptions
        {
            Temperature = 0, MaxOutputTokens = 40, ToolMode = ChatToolMode.RequireSpecific("get_weather"),
        }));
        Assert.Equal(1, calls);
        Assert.Contains(second.Messages, m => m.Contents.OfType<FunctionCallContent>().Any(c => c.Name == "get_weather"));
        Assert.Contains(second.Messages, m => m.Contents.OfType<FunctionResultContent>().Any());
        Assert.False(string.IsNullOrEmpty(second.Text));

        // The session continued the stored conversation: the last response is on the server and continues an earlier one.
        ResponseResult last = await _responses.GetResponseAsync(second.ResponseId);
        Assert.NotNull(last.PreviousResponseId);
    }
}
