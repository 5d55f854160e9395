using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace GenAI.Server.Tests;

/// <summary>Files and fine-tuning jobs API in-process, with no worker: the API records jobs, workers are tested elsewhere.</summary>
public sealed class FineTuningApiTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "genai-ftapi-" + Guid.NewGuid().ToString("N"));
    private ServerFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _factory = ServerFactory.With(new()
        {
            ["GenAI:DataRoot"] = Path.Combine(_root, "data"),
            ["GenAI:ModelsRoot"] = Path.Combine(_root, "models"),
            ["GenAI:InProcessWorker"] = "false",
            ["GenAI:MaxUploadBytes"] = "4096",
        });
        _client = await _factory.ReadyClientAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    internal static MultipartFormDataContent Upload(string content, string filename, string purpose = "fine-tune")
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(content));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", filename);
        form.Add(new StringContent(purpose), "purpose");
        return form;
    }

    private async Task<(int Status, JsonElement Body)> PostFormAsync(MultipartFormDataContent form)
    {
        using var response = await _client.PostAsync("/v1/files", form);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private async Task<string> UploadedFileAsync()
    {
        var (status, body) = await PostFormAsync(Upload("""
            {"text": "To be, or not to be, that is the question."}
            {"prompt": "Whether 'tis nobler", "completion": " in the mind to suffer"}
            """, "train.jsonl"));
        Assert.Equal(200, status);
        return body.GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task UploadsAreValidatedListedRetrievedAndDeleted()
    {
        var (status, file) = await PostFormAsync(Upload("Some plain training text.\nMore of it.\n", "notes.txt"));
        Assert.Equal(200, status);
        string id = file.GetProperty("id").GetString()!;
        Assert.Matches("^file-[A-Za-z0-9]{24}$", id);
        Assert.Equal("file", file.GetProperty("object").GetString());
        Assert.Equal("notes.txt", file.GetProperty("filename").GetString());
        Assert.Equal("fine-tune", file.GetProperty("purpose").GetString());
        Assert.Equal("processed", file.GetProperty("status").GetString());
        Assert.Equal(38, file.GetProperty("bytes").GetInt64());

        Http.AssertError(400, await PostFormAsync(Upload("text", "a.txt", purpose: "assistants")), "purpose");
        var badLine = await PostFormAsync(Upload("{\"text\": \"fine\"}\n{\"text\": \"fine\"}\n{\"text\": 3\n", "bad.jsonl"));
        Http.AssertError(400, badLine, "file");
        Assert.Contains("line 3", badLine.Body.GetProperty("error").GetProperty("message").GetString());
        Http.AssertError(413, await PostFormAsync(Upload(new string('x', 5000), "big.txt")));
        using (var notMultipart = await _client.PostAsync("/v1/files", Http.Json("{}")))
        {
            Assert.Equal(400, (int)notMultipart.StatusCode);
        }

        var list = (await Http.GetAsync(_client, "/v1/files")).Body;
        Assert.Equal("list", list.GetProperty("object").GetString());
        Assert.Equal([id], list.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString()));
        Assert.Equal(id, (await Http.GetAsync(_client, $"/v1/files/{id}")).Body.GetProperty("id").GetString());
        Assert.Equal("Some plain training text.\nMore of it.\n", await _client.GetStringAsync($"/v1/files/{id}/content"));

        using (var deleted = await _client.DeleteAsync($"/v1/files/{id}"))
        {
            var body = JsonDocument.Parse(await deleted.Content.ReadAsStringAsync()).RootElement;
            Assert.True(body.GetProperty("deleted").GetBoolean());
        }
        Http.AssertError(404, await Http.GetAsync(_client, $"/v1/files/{id}"));
        using (var again = await _client.DeleteAsync($"/v1/files/{id}"))
        {
            Assert.Equal(404, (int)again.StatusCode);
        }
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "data", "files")));

        string swagger = await _client.GetStringAsync("/swagger/v1/swagger.json");
        foreach (string documented in new[] { "/v1/files", "/v1/files/{id}", "/v1/fine_tuning/jobs", "/v1/fine_tuning/jobs/{id}/cancel",
            "/v1/fine_tuning/jobs/{id}/events", "CreateFineTuningJobRequest", "max_steps", "FineTuningJobObject", "FineTuningEventList" })
        {
            Assert.Contains(documented, swagger);
        }
    }

    [Fact]
    public async Task CreatingAJobChecksModelFilesAndHyperparameters()
    {
        string file = await UploadedFileAsync();
        Http.AssertError(404, await Http.PostAsync(_client, "/v1/fine_tuning/jobs", $$"""{"model": "nope", "training_file": "{{file}}"}"""), "model");
        Http.AssertError(400, await Http.PostAsync(_client, "/v1/fine_tuning/jobs", """{"model": "gpt2-tiny", "training_file": "file-missing"}"""), "training_file");
        Http.AssertError(400, await Http.PostAsync(_client, "/v1/fine_tuning/jobs", """{"model": "gpt2-tiny"}"""), "training_file");
        Http.AssertError(400, await Http.PostAsync(_client, "/v1/fine_tuning/jobs",
            $$"""{"model": "gpt2-tiny", "training_file": "{{file}}", "validation_file": "file-gone"}"""), "validation_file");
        Http.AssertError(400, await Http.PostAsync(_client, "/v1/fine_tuning/jobs",
            $$$"""{"model": "gpt2-tiny", "training_file": "{{{file}}}", "hyperparameters": {"n_epochs": 0}}"""), "hyperparameters.n_epochs");
        Http.AssertError(400, await Http.PostAsync(_client, "/v1/fine_tuning/jobs",
            $$$"""{"model": "gpt2-tiny", "training_file": "{{{file}}}", "hyperparameters": {"batch_size": "big"}}"""), "hyperparameters.batch_size");
        Http.AssertError(400, await Http.PostAsync(_client, "/v1/fine_tuning/jobs",
            $$"""{"model": "gpt2-tiny", "training_file": "{{file}}", "suffix": "no spaces"}"""), "suffix");
        Http.AssertError(400, await Http.PostAsync(_client, "/v1/fine_tuning/jobs",
            $$$"""{"model": "gpt2-tiny", "training_file": "{{{file}}}", "method": {"type": "dpo"}}"""), "method.type");
        Http.AssertError(400, await Http.PostAsync(_client, "/v1/fine_tuning/jobs",
            $$"""{"model": "gpt2-tiny", "training_file": "{{file}}", "max_steps": 0}"""), "max_steps");

        var (status, job) = await Http.PostAsync(_client, "/v1/fine_tuning/jobs", $$$"""
            {"model": "gpt2-tiny", "training_file": "{{{file}}}", "suffix": "bard", "seed": 7, "max_steps": 5,
             "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": "auto", "learning_rate_multiplier": 0.5} } } }
            """);
        Assert.Equal(200, status);
        Assert.Matches("^ftjob-[A-Za-z0-9]{24}$", job.GetProperty("id").GetString());
        Assert.Equal("fine_tuning.job", job.GetProperty("object").GetString());
        Assert.Equal("validating_files", job.GetProperty("status").GetString());
        Assert.Equal("gpt2-tiny", job.GetProperty("model").GetString());
        Assert.Equal(file, job.GetProperty("training_file").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("fine_tuned_model").ValueKind);
        Assert.Equal(7, job.GetProperty("seed").GetInt32());
        Assert.Equal("bard", job.GetProperty("user_provided_suffix").GetString());
        Assert.Equal(5, job.GetProperty("max_steps").GetInt32());
        var hyper = job.GetProperty("hyperparameters");
        Assert.Equal(2, hyper.GetProperty("n_epochs").GetInt32());
        Assert.Equal("auto", hyper.GetProperty("batch_size").GetString());
        Assert.Equal(0.5, hyper.GetProperty("learning_rate_multiplier").GetDouble());
        Assert.Equal("supervised", job.GetProperty("method").GetProperty("type").GetString());
        foreach (string field in new[] { "created_at", "finished_at", "error", "organization_id", "result_files", "trained_tokens", "validation_file", "integrations", "estimated_finish" })
        {
            Assert.True(job.TryGetProperty(field, out _), field);
        }
    }

    [Fact]
    public async Task JobsAreListedRetrievedCancelledAndTheirEventsStreamed()
    {
        string file = await UploadedFileAsync();
        var ids = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            var (_, job) = await Http.PostAsync(_client, "/v1/fine_tuning/jobs", $$"""{"model": "gpt2-tiny", "training_file": "{{file}}"}""");
            ids.Add(job.GetProperty("id").GetString()!);
        }
        var page = (await Http.GetAsync(_client, "/v1/fine_tuning/jobs?limit=2")).Body;
        Assert.Equal([ids[2], ids[1]], page.GetProperty("data").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
        Assert.True(page.GetProperty("has_more").GetBoolean());
        var rest = (await Http.GetAsync(_client, $"/v1/fine_tuning/jobs?after={ids[1]}")).Body;
        Assert.Equal([ids[0]], rest.GetProperty("data").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
        Http.AssertError(400, await Http.GetAsync(_client, "/v1/fine_tuning/jobs?limit=0"), "limit");
        Http.AssertError(404, await Http.GetAsync(_client, "/v1/fine_tuning/jobs/ftjob-nope"));
        Assert.Equal(ids[0], (await Http.GetAsync(_client, $"/v1/fine_tuning/jobs/{ids[0]}")).Body.GetProperty("id").GetString());

        // No worker holds it, so the cancel is immediate; a second cancel is harmless.
        var (status, cancelled) = await Http.PostAsync(_client, $"/v1/fine_tuning/jobs/{ids[0]}/cancel", "");
        Assert.Equal(200, status);
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.Equal(200, (await Http.PostAsync(_client, $"/v1/fine_tuning/jobs/{ids[0]}/cancel", "")).Status);
        Http.AssertError(404, await Http.PostAsync(_client, "/v1/fine_tuning/jobs/ftjob-nope/cancel", ""));

        var events = (await Http.GetAsync(_client, $"/v1/fine_tuning/jobs/{ids[0]}/events")).Body;
        Assert.Equal("list", events.GetProperty("object").GetString());
        var messages = events.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("message").GetString()).ToList();
        Assert.Equal(["Job cancelled", $"Created fine-tuning job: {ids[0]}"], messages);
        var first = events.GetProperty("data")[0];
        Assert.Equal("fine_tuning.job.event", first.GetProperty("object").GetString());
        Assert.Equal("info", first.GetProperty("level").GetString());
        Assert.Equal("message", first.GetProperty("type").GetString());
        var older = (await Http.GetAsync(_client, $"/v1/fine_tuning/jobs/{ids[0]}/events?limit=1&after={first.GetProperty("id").GetString()}")).Body;
        Assert.Equal(messages[1], older.GetProperty("data")[0].GetProperty("message").GetString());

        // The stream of a finished job replays its events oldest first and ends.
        using var response = await _client.GetAsync($"/v1/fine_tuning/jobs/{ids[0]}/events?stream=true");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var streamed = Http.DataEvents(await response.Content.ReadAsStringAsync());
        Assert.Equal("[DONE]", streamed[^1]);
        Assert.Equal(messages.AsEnumerable().Reverse(), streamed[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("message").GetString()));
    }
}
