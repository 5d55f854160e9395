using System.ClientModel;
using System.ComponentModel;
using System.Text;
using System.Text.Json;
using Json.Schema;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using ChatMessage = OpenAI.Chat.ChatMessage;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;

namespace GenAI.Server.Tests;

/// <summary>
/// Tool calling and reasoning through the real server process on 127.0.0.1, on the random-weight Qwen3 (Hermes syntax,
/// think blocks) and Llama 3 (JSON calls) fixtures served with 2048 positions: the official OpenAI SDK with
/// tool_choice required and a named function (every call names one of the tools and its arguments validate), a
/// tool-result round trip, streamed calls that reassemble to the whole ones; Microsoft.Extensions.AI's function
/// invocation loop calling a C# function; reasoning_content and reasoning tokens; 400s naming the field.
/// </summary>
public sealed class ToolCallingTests(ToolCallingTests.Server server) : IClassFixture<ToolCallingTests.Server>
{
    public sealed class Server : IAsyncLifetime
    {
        public ServerProcess Process { get; private set; } = null!;

        public OpenAIClient Client { get; private set; } = null!;

        public HttpClient Http { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Process = await ServerProcess.StartAsync(Path.Combine(AppContext.BaseDirectory, "GenAI.Server.dll"),
                ["--model", TestPaths.DecoderModelWithContext("qwen3-tiny", 2048), "--model", TestPaths.DecoderModelWithContext("llama3-tiny", 2048),
                 "--model", TestPaths.DecoderModelWithContext("mistral-tiny", 2048),
                 "--model", WithControlTokens("mistral-tiny-mistral-tools", new() { [5] = "[TOOL_CALLS]" }),
                 "--model", WithControlTokens("mistral-tiny-phi4-tools", new() { [6] = "<|tool_call|>", [7] = "<|/tool_call|>" })]);
            Client = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(Process.BaseAddress, "/v1") });
            Http = new HttpClient { BaseAddress = Process.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        }

        public async Task DisposeAsync()
        {
            Http.Dispose();
            await Process.DisposeAsync();
        }

        /// <summary>
        /// The Mistral fixture (2048 positions) with some byte tokens turned into the control tokens of a newer tokenizer
        /// (Mistral v3 has [TOOL_CALLS] at id 5; Phi-4-mini's tool-call tags), so the server detects that family's syntax.
        /// </summary>
        private static string WithControlTokens(string name, Dictionary<int, string> tokens)
        {
            string source = TestPaths.DecoderModelWithContext("mistral-tiny", 2048);
            return TestPaths.DerivedModel(source, name, staging =>
            {
                var tokenizer = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(source, "tokenizer.json")))!;
                var vocab = tokenizer["model"]!["vocab"]!.AsObject();
                foreach (var (id, text) in tokens)
                {
                    string old = vocab.First(p => p.Value!.GetValue<int>() == id).Key;
                    vocab.Remove(old);
                    vocab[text] = id;
                    tokenizer["added_tokens"]!.AsArray().Add(new System.Text.Json.Nodes.JsonObject
                    {
                        ["id"] = id, ["content"] = text, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
                    });
                }
                File.WriteAllText(Path.Combine(staging, "tokenizer.json"), tokenizer.ToJsonString());
            }, "tokenizer.json");
        }
    }

    private const string Qwen = "qwen3-tiny-ctx2048";
    private const string Llama = "llama3-tiny-ctx2048";
    private const string Mistral = "mistral-tiny-ctx2048";

    private const string WeatherSchema = """
        {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}, "unit": {"enum": ["celsius", "fahrenheit"]}},
         "required": ["city", "unit"], "additionalProperties": false}
        """;

    private const string TimeSchema = """
        {"type": "object", "properties": {"zone": {"type": "string", "maxLength": 8}, "hours": {"type": "integer", "minimum": 0, "maximum": 23}},
         "required": ["zone", "hours"], "additionalProperties": false}
        """;

    private static readonly Dictionary<string, string> Schemas = new() { ["get_weather"] = WeatherSchema, ["get_time"] = TimeSchema };

    private static ChatTool[] Tools() =>
    [
        ChatTool.CreateFunctionTool("get_weather", "The weather in a city", BinaryData.FromString(WeatherSchema)),
        ChatTool.CreateFunctionTool("get_time", "The time in a zone", BinaryData.FromString(TimeSchema)),
    ];

    private static void AssertValidCall(string name, string arguments)
    {
        Assert.True(Schemas.TryGetValue(name, out var schema), $"unknown function '{name}'");
        var results = JsonSchema.FromText(schema).Evaluate(JsonDocument.Parse(arguments).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(results.IsValid, $"{name} arguments do not validate: {arguments}");
    }

    [Theory]
    [InlineData(Qwen)]
    [InlineData(Llama)]
    public async Task RequiredToolCallsNameAToolAndTheirArgumentsValidate(string model)
    {
        var chat = server.Client.GetChatClient(model);
        foreach (int seed in new[] { 1, 2, 3 })
        {
            var options = Options(ChatToolChoice.CreateRequiredChoice(), temperature: 1, seed);
            options.AllowParallelToolCalls = false;
            ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("What is the weather in Paris?")], options);
            Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
            var call = Assert.Single(completion.ToolCalls);
            Assert.StartsWith("call_", call.Id);
            Assert.Equal(ChatToolCallKind.Function, call.Kind);
            AssertValidCall(call.FunctionName, call.FunctionArguments.ToString());
        }

        // Parallel calls: a random model may go on calling until max_tokens; every call it finished validates.
        ChatCompletion parallel = await chat.CompleteChatAsync([new UserChatMessage("Weather in Paris and Oslo?")], Options(ChatToolChoice.CreateRequiredChoice(), temperature: 1, seed: 1));
        Assert.NotEmpty(parallel.ToolCalls);
        Assert.Equal(parallel.ToolCalls.Count, parallel.ToolCalls.Select(c => c.Id).Distinct().Count());
        var finished = parallel.FinishReason == ChatFinishReason.ToolCalls ? parallel.ToolCalls : parallel.ToolCalls.SkipLast(1);
        foreach (var call in finished) AssertValidCall(call.FunctionName, call.FunctionArguments.ToString());
    }

    private static ChatCompletionOptions Options(ChatToolChoice choice, float temperature = 0, long? seed = null)
    {
        var options = new ChatCompletionOptions { ToolChoice = choice, Temperature = temperature, MaxOutputTokenCount = 400 };
        foreach (var tool in Tools()) options.Tools.Add(tool);
#pragma warning disable OPENAI001
        options.Seed = seed;
#pragma warning restore OPENAI001
        return options;
    }

    [Theory]
    [InlineData(Qwen)]
    [InlineData(Llama)]
    public async Task ANamedFunctionIsTheOneCalled(string model)
    {
        ChatCompletion completion = await server.Client.GetChatClient(model).CompleteChatAsync([new UserChatMessage("What time is it?")], Options(ChatToolChoice.CreateFunctionChoice("get_time")));
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("get_time", call.FunctionName);
        AssertValidCall(call.FunctionName, call.FunctionArguments.ToString());
    }

    [Theory]
    [InlineData(Qwen)]
    [InlineData(Llama)]
    public async Task ToolResultsGoBackThroughTheTemplateAndTheModelAnswers(string model)
    {
        var chat = server.Client.GetChatClient(model);
        List<ChatMessage> messages = [new UserChatMessage("What is the weather in Paris?")];
        ChatCompletion first = await chat.CompleteChatAsync(messages, Options(ChatToolChoice.CreateFunctionChoice("get_weather")));
        var call = Assert.Single(first.ToolCalls);
        messages.Add(new AssistantChatMessage(first.ToolCalls));
        messages.Add(new ToolChatMessage(call.Id, """{"temperature": 21, "sky": "clear and sunny over the whole city"}"""));

        var answerOptions = Options(ChatToolChoice.CreateNoneChoice());
        answerOptions.MaxOutputTokenCount = 8;
        ChatCompletion answer = await chat.CompleteChatAsync(messages, answerOptions);
        Assert.Empty(answer.ToolCalls);
        Assert.NotEqual(ChatFinishReason.ToolCalls, answer.FinishReason);
        Assert.NotEmpty(answer.Content[0].Text);
        // The call and its result are in the prompt: it grew by at least the result's text.
        Assert.True(answer.Usage.InputTokenCount > first.Usage.InputTokenCount + 10, $"{answer.Usage.InputTokenCount} vs {first.Usage.InputTokenCount}");
    }

    [Theory]
    [InlineData(Qwen)]
    [InlineData(Llama)]
    public async Task StreamedToolCallsReassembleToTheWholeOnes(string model)
    {
        var chat = server.Client.GetChatClient(model);
        var options = Options(ChatToolChoice.CreateRequiredChoice());
        options.AllowParallelToolCalls = false;
        ChatCompletion whole = await chat.CompleteChatAsync([new UserChatMessage("Weather and time in Oslo?")], options);

        var ids = new Dictionary<int, string>();
        var names = new Dictionary<int, string>();
        var arguments = new Dictionary<int, StringBuilder>();
        ChatFinishReason? finish = null;
        int updatesWithArguments = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Weather and time in Oslo?")], options))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                if (part.ToolCallId is { } id) ids[part.Index] = id;
                if (part.FunctionName is { } name)
                {
                    Assert.False(names.ContainsKey(part.Index), "a call's name came twice");
                    names[part.Index] = name;
                }
                if (part.FunctionArgumentsUpdate is { } delta && !delta.ToMemory().IsEmpty)
                {
                    Assert.True(names.ContainsKey(part.Index), "arguments before the call's name");
                    updatesWithArguments++;
                    (arguments.TryGetValue(part.Index, out var sb) ? sb : arguments[part.Index] = new StringBuilder()).Append(delta.ToString());
                }
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal(whole.ToolCalls.Count, names.Count);
        Assert.True(updatesWithArguments > whole.ToolCalls.Count, "arguments should stream in several pieces");
        for (int i = 0; i < whole.ToolCalls.Count; i++)
        {
            Assert.StartsWith("call_", ids[i]);
            Assert.Equal(whole.ToolCalls[i].FunctionName, names[i]);
            Assert.Equal(whole.ToolCalls[i].FunctionArguments.ToString(), arguments[i].ToString());
        }
    }

    [Theory]
    [InlineData(Qwen, "<tool_call>")]
    [InlineData(Llama, "{")]
    public async Task ACallTheModelOpensItselfIsConstrainedAndParsed(string model, string opener)
    {
        // tool_choice auto: the bias makes the random model open a call in its own syntax (Qwen's <tool_call> token, Llama's
        // bare '{'); from there the constraint makes it a valid call, and without parallel calls only the end may follow.
        var tokenizer = GenAI.Core.Tokenization.TokenizerLoader.Load(TestPaths.Tokenizer(model == Qwen ? "qwen3" : "llama3"));
        int token = tokenizer.EncodeWithSpecialTokens(opener).Single();
        foreach (int seed in new[] { 1, 2 })
        {
            var options = Options(ChatToolChoice.CreateAutoChoice(), temperature: 1, seed);
            options.AllowParallelToolCalls = false;
            options.LogitBiases[token] = 100;
            ChatCompletion completion = await server.Client.GetChatClient(model).CompleteChatAsync([new UserChatMessage("Weather in Rome?")], options);
            Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
            var call = Assert.Single(completion.ToolCalls);
            AssertValidCall(call.FunctionName, call.FunctionArguments.ToString());
            Assert.True(completion.Content.Count == 0 || string.IsNullOrEmpty(completion.Content[0].Text));
        }
    }

    [Theory]
    [InlineData("mistral-tiny-mistral-tools", "[TOOL_CALLS]", 5)]
    [InlineData("mistral-tiny-phi4-tools", "<|tool_call|>", 6)]
    public async Task MistralAndPhi4MiniCallsAreWrittenAndReadInTheirSyntax(string model, string opener, int openerId)
    {
        var chat = server.Client.GetChatClient(model);
        var required = Options(ChatToolChoice.CreateRequiredChoice(), temperature: 1, seed: 2);
        required.AllowParallelToolCalls = false;
        ChatCompletion forced = await chat.CompleteChatAsync([new UserChatMessage("Weather in Rome?")], required);
        Assert.Equal(ChatFinishReason.ToolCalls, forced.FinishReason);
        AssertValidCall(Assert.Single(forced.ToolCalls).FunctionName, forced.ToolCalls[0].FunctionArguments.ToString());

        // auto: the model opens the call with its control token (biased here), the rest is constrained; streamed.
        var auto = Options(ChatToolChoice.CreateAutoChoice(), temperature: 1, seed: 3);
        auto.AllowParallelToolCalls = false;
        auto.LogitBiases[openerId] = 100;
        string? name = null;
        var arguments = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Weather in Rome?")], auto))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                name ??= part.FunctionName;
                if (part.FunctionArgumentsUpdate is { } delta && !delta.ToMemory().IsEmpty) arguments.Append(delta.ToString());
            }
            foreach (var part in update.ContentUpdate) Assert.DoesNotContain(opener, part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        AssertValidCall(name!, arguments.ToString());
    }

    [Fact]
    public async Task AModelWithoutAToolSyntaxAnswersRequiredWithABareCall()
    {
        // Mistral's fixture tokenizer has no [TOOL_CALLS]: the call is the bare JSON object (SentencePiece vocabulary).
        var options = Options(ChatToolChoice.CreateRequiredChoice(), temperature: 1, seed: 4);
        options.AllowParallelToolCalls = false;
        ChatCompletion completion = await server.Client.GetChatClient(Mistral).CompleteChatAsync([new UserChatMessage("Weather in Rome?")], options);
        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        AssertValidCall(call.FunctionName, call.FunctionArguments.ToString());
    }

    public enum City
    {
        Paris,
        Oslo,
    }

    [Theory]
    [InlineData(Llama)]
    [InlineData(Qwen)]
    public async Task ExtensionsAiInvokesACSharpFunctionAndCompletesTheLoop(string model)
    {
        var calledWith = new List<City>();
        var weather = AIFunctionFactory.Create([Description("The weather in a city")] (City city) =>
        {
            calledWith.Add(city);
            return city == City.Paris ? "sunny, 21 C" : "snow, -3 C";
        }, "get_weather");
        IChatClient client = server.Client.GetChatClient(model).AsIChatClient()
            .AsBuilder().UseFunctionInvocation(configure: f => f.MaximumIterationsPerRequest = 3).Build();
        var options = new ChatOptions { Tools = [weather], ToolMode = ChatToolMode.RequireSpecific("get_weather"), Temperature = 0, MaxOutputTokens = 60 };

        ChatResponse response = await client.GetResponseAsync("What is the weather in Paris?", options);

        Assert.NotEmpty(calledWith); // the server's call reached the C# function, with a valid argument
        var contents = response.Messages.SelectMany(m => m.Contents).ToList();
        var call = contents.OfType<FunctionCallContent>().First();
        Assert.Equal("get_weather", call.Name);
        Assert.StartsWith("call_", call.CallId);
        Assert.Contains(contents.OfType<FunctionResultContent>(), r => r.CallId == call.CallId);
        Assert.Equal(ChatRole.Assistant, response.Messages[^1].Role);
    }

    /// <summary>What <see cref="ExtensionsAiReturnsATypedObject"/> asks for: Microsoft.Extensions.AI derives its JSON schema.</summary>
    public sealed record Forecast(City City, bool Sunny, City[] Neighbours);

    [Theory]
    [InlineData(Llama)]
    [InlineData(Qwen)]
    public async Task ExtensionsAiReturnsATypedObject(string model)
    {
        IChatClient client = server.Client.GetChatClient(model).AsIChatClient();
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 120 };

        // GetResponseAsync<T> sends response_format json_schema with T's schema: constrained decoding makes even random
        // weights answer with a Forecast.
        ChatResponse<Forecast> response = await client.GetResponseAsync<Forecast>("The forecast for Paris?", options);

        Assert.True(response.TryGetResult(out Forecast? forecast), response.Text);
        Assert.True(Enum.IsDefined(forecast!.City));
        Assert.All(forecast.Neighbours, c => Assert.True(Enum.IsDefined(c)));
    }

    [Fact]
    public async Task ThinkingGoesToReasoningContentAndIsCounted()
    {
        // Random weights never close a think block on their own: the bias makes the model open one and keep writing
        // think tags, so the whole output is reasoning. (Closing and the answer after it: AssistantOutputParserTests.)
        const int ThinkOpen = 151667;
        string request = $$"""
            {"model": "{{Qwen}}", "messages": [{"role": "user", "content": "Think."}], "max_tokens": 6, "temperature": 0,
             "logit_bias": {"{{ThinkOpen}}": 100}
            """;
        var (status, body) = await Http.PostAsync(server.Http, "/v1/chat/completions", request + "}");
        Assert.Equal(200, status);
        var message = body.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal(string.Concat(Enumerable.Repeat("<think>", 5)), message.GetProperty("reasoning_content").GetString());
        Assert.Equal("", message.GetProperty("content").GetString());
        Assert.Equal(6, body.GetProperty("usage").GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());

        var (_, stream) = await Http.StreamAsync(server.Http, "/v1/chat/completions", request + """, "stream": true, "stream_options": {"include_usage": true}}""");
        var chunks = Http.DataEvents(stream)[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        string streamed = string.Concat(chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0).Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("reasoning_content", out var r) ? r.GetString() : ""));
        Assert.Equal(message.GetProperty("reasoning_content").GetString(), streamed);
        Assert.Equal(6, chunks[^1].GetProperty("usage").GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());

        // With enable_thinking false the template writes an empty think block into the prompt: the output is the answer.
        var (_, off) = await Http.PostAsync(server.Http, "/v1/chat/completions", request + """, "chat_template_kwargs": {"enable_thinking": false}}""");
        var answer = off.GetProperty("choices")[0].GetProperty("message");
        Assert.False(answer.TryGetProperty("reasoning_content", out _));
        Assert.StartsWith("<think>", answer.GetProperty("content").GetString());
        Assert.Equal(0, off.GetProperty("usage").GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
    }

    [Fact]
    public async Task WithAutoAJsonResponseFormatIsTheAnswerNotACall()
    {
        // Llama reads a JSON value opening the answer as a call; under response_format it is the answer, "name" key or not.
        var (status, body) = await Http.PostAsync(server.Http, "/v1/chat/completions", $$$"""
            {"model": "{{{Llama}}}", "messages": [{"role": "user", "content": "Hi"}], "temperature": 0, "max_tokens": 200,
             "tools": {{{ToolsJson}}}, "tool_choice": "auto",
             "response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object",
               "properties": {"name": {"enum": ["get_weather"]}, "arguments": {"type": "object", "properties": {}, "additionalProperties": false}},
               "required": ["name", "arguments"], "additionalProperties": false}} } }
            """);
        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
        Assert.Equal("get_weather", JsonDocument.Parse(choice.GetProperty("message").GetProperty("content").GetString()!).RootElement.GetProperty("name").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task ARequiredCallMayFollowAThinkBlock()
    {
        // The bias makes the model think (it may open the block as its first token) and then close it; the calls follow.
        var options = Options(ChatToolChoice.CreateRequiredChoice(), temperature: 1, seed: 5);
        options.AllowParallelToolCalls = false;
        options.LogitBiases[151667] = 100; // <think>
        options.LogitBiases[151668] = 100; // </think>
        ChatCompletion completion = await server.Client.GetChatClient(Qwen).CompleteChatAsync([new UserChatMessage("Weather in Rome?")], options);
        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        AssertValidCall(Assert.Single(completion.ToolCalls).FunctionName, completion.ToolCalls[0].FunctionArguments.ToString());
        Assert.True(completion.Usage.OutputTokenDetails.ReasoningTokenCount >= 2, $"{completion.Usage.OutputTokenDetails.ReasoningTokenCount} reasoning tokens");
    }

    private const string ToolsJson = """[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]""";

    [Theory]
    [InlineData("\"tools\": " + ToolsJson + ", \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"get_time\"}}", "tool_choice", "not among the tools")]
    [InlineData("\"tools\": " + ToolsJson + ", \"tool_choice\": \"sometimes\"", "tool_choice", "tool_choice must be")]
    [InlineData("\"tool_choice\": \"required\"", "tool_choice", "needs tools")]
    [InlineData("\"tools\": {\"type\": \"function\"}", "tools", "tools must be a list")]
    [InlineData("\"tools\": [{\"type\": \"retrieval\"}]", "tools[0].type", "must be \\\"function\\\"")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"integer\", \"multipleOf\": 3}}}}}]",
        "tools[0].function.parameters.properties.n", "multipleOf")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": 5}}]", "tools[0].function.parameters", "JSON Schema object")]
    [InlineData("\"tools\": " + ToolsJson + ", \"tool_choice\": \"required\", \"response_format\": {\"type\": \"json_object\"}", "tool_choice", "response_format")]
    public async Task BadToolFieldsAre400sNamingTheField(string fields, string param, string message)
    {
        var response = await Http.PostAsync(server.Http, "/v1/chat/completions",
            $$"""{"model": "{{Qwen}}", "messages": [{"role": "user", "content": "Hi"}], {{fields}} }""");
        Http.AssertError(400, response, param);
        Assert.Contains(message.Replace("\\\"", "\""), response.Body.GetProperty("error").GetProperty("message").GetString());
    }
}
