using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Files;
using OpenAI.FineTuning;

#pragma warning disable OPENAI001 // The SDK marks fine-tuning as experimental; the API is stable.

namespace GenAI.Server.Tests;

/// <summary>
/// The end-to-end: with the official OpenAI .NET SDK against the real server process, upload a small text file,
/// fine-tune the fixture model on it (in-process worker), poll until it succeeds, then chat with the fine-tuned model.
/// </summary>
public sealed class FineTuningEndToEndTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "genai-ft-e2e-" + Guid.NewGuid().ToString("N"));
    private ServerProcess _server = null!;
    private OpenAIClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerProcess.StartAsync(Path.Combine(AppContext.BaseDirectory, "GenAI.Server.dll"),
            ["--model", TestPaths.Gpt2Tiny, "--models-root", Path.Combine(_root, "models"), "--data-root", Path.Combine(_root, "data"), "--api-key", "test-key"]);
        _client = new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = new Uri(_server.BaseAddress, "/v1") });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task UploadFineTunePollAndChatWithTheFineTunedModel()
    {
        string text = string.Concat(Enumerable.Repeat("To be, or not to be, that is the question: whether 'tis nobler in the mind to suffer.\n", 80));
        OpenAIFileClient files = _client.GetOpenAIFileClient();
        OpenAIFile file = await files.UploadFileAsync(BinaryData.FromString(text), "hamlet.txt", FileUploadPurpose.FineTune);
        Assert.Equal("hamlet.txt", file.Filename);

        // The typed options cannot carry our max_steps extension, so this goes through the SDK's protocol method.
        FineTuningClient fineTuning = _client.GetFineTuningClient();
        string request = $$$"""
            {"model": "gpt2-tiny", "training_file": "{{{file.Id}}}", "suffix": "hamlet", "seed": 3, "max_steps": 3,
             "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1, "batch_size": 2} } } }
            """;
        FineTuningJob job = await fineTuning.FineTuneAsync(BinaryContent.Create(BinaryData.FromString(request)), waitUntilCompleted: false, new RequestOptions());
        Assert.Equal("gpt2-tiny", job.BaseModel);
        Assert.Equal(file.Id, job.TrainingFileId);
        Assert.Equal(3, job.Seed);

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (!job.HasCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            await job.UpdateStatusAsync();
        }
        Assert.True(job.Status == FineTuningStatus.Succeeded, $"{job.Status}\n{_server.Output}");
        string model = job.Value!;
        Assert.StartsWith("gpt2-tiny-ft-hamlet-", model);

        var events = new List<FineTuningEvent>();
        await foreach (var e in job.GetEventsAsync(new GetEventsOptions { PageSize = 100 })) events.Add(e);
        Assert.Contains(events, e => e.Message == "The job has successfully completed");
        Assert.Contains(events, e => e.Kind == FineTuningJobEventKind.Metrics);

        FineTuningJob again = await fineTuning.GetJobAsync(job.JobId);
        Assert.Equal(model, again.Value);

        ChatCompletion completion = await _client.GetChatClient(model).CompleteChatAsync([new UserChatMessage("To be, or not")],
            new ChatCompletionOptions { MaxOutputTokenCount = 5, Temperature = 0 });
        Assert.Equal(model, completion.Model);
        Assert.True(completion.Usage.OutputTokenCount is > 0 and <= 5);
    }

    [Fact]
    public async Task TheTypedClientFineTunesAndWaitsForCompletion()
    {
        string lines = string.Concat(Enumerable.Range(0, 40).Select(i =>
            $$"""{"prompt": "Line {{i}}: to be", "completion": ", or not to be."}""" + "\n"));
        OpenAIFile file = await _client.GetOpenAIFileClient().UploadFileAsync(BinaryData.FromString(lines), "lines.jsonl", FileUploadPurpose.FineTune);
        var options = new FineTuningOptions
        {
            Suffix = "typed",
            Seed = 5,
            TrainingMethod = FineTuningTrainingMethod.CreateSupervised(batchSize: 2, epochCount: 1, learningRate: 2),
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        FineTuningJob job = await _client.GetFineTuningClient().FineTuneAsync("gpt2-tiny", file.Id, waitUntilCompleted: true, options, timeout.Token);

        Assert.True(job.Status == FineTuningStatus.Succeeded, $"{job.Status}\n{_server.Output}");
        Assert.StartsWith("gpt2-tiny-ft-typed-", job.Value);
        var resolved = Assert.IsType<HyperparametersForSupervised>(job.MethodHyperparameters);
        Assert.Equal(1, resolved.EpochCount);
        Assert.Equal(2, resolved.BatchSize);
        Assert.Equal(2f, resolved.LearningRateMultiplier);
        var completion = await _client.GetChatClient(job.Value).CompleteChatAsync([new UserChatMessage("Line 3: to be")],
            new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0 });
        Assert.Equal(job.Value, completion.Value.Model);
    }
}
