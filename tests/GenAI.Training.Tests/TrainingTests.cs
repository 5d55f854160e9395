using GenAI.Core.Generation;
using GenAI.Core.Models;
using GenAI.Core.Tokenization;
using static TorchSharp.torch;

namespace GenAI.Training.Tests;

[Collection(InProcessTraining.Name)]
public sealed class TrainingTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "genai-train-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void ScheduleIsNanoGptsWarmupAndCosine()
    {
        var o = new TrainingOptions { LearningRate = 1e-3, MinLr = 1e-4, WarmupIters = 100, LrDecayIters = 2000 };
        Assert.Equal(1e-3 * 1 / 101, o.LearningRateAt(0), 12);
        Assert.Equal(1e-3 * 100 / 101, o.LearningRateAt(99), 12);
        Assert.Equal(1e-3, o.LearningRateAt(100), 12);
        Assert.Equal(1e-4 + 0.5 * (1e-3 - 1e-4), o.LearningRateAt(1050), 12);
        Assert.Equal(1e-4, o.LearningRateAt(2000), 12);
        Assert.Equal(1e-4, o.LearningRateAt(5000), 12);
    }

    [Fact]
    public void OptionsAreParsedByNanoGptNamesAndErrorsNameTheOption()
    {
        var o = new TrainingOptions().With("n_layer", "6").With("learning_rate", "3e-4").With("dropout", "0.2");
        Assert.Equal(6, o.NLayer);
        Assert.Equal(3e-4, o.LearningRate);
        Assert.Contains("--n_layers", Assert.Throws<ArgumentException>(() => o.With("n_layers", "2")).Message);
        Assert.Contains("--max_iters", Assert.Throws<ArgumentException>(() => o.With("max_iters", "many")).Message);
        Assert.Contains("--n_head", Assert.Throws<ArgumentException>(() => (o with { NHead = 5 }).Validate()).Message);
    }

    [Fact]
    public void BatchesAreShiftedWindowsOfTheSplit()
    {
        var tokens = Enumerable.Range(0, 1000).Select(i => i % 50).ToList();
        using var data = new TokenDataset(tokens);
        Assert.Equal((900L, 100L), data.Sizes);
        using var generator = new Generator(3);
        var (x, y) = data.Batch(train: true, 4, 16, generator);
        Assert.Equal([4L, 16L], x.shape);
        Assert.True(x.narrow(1, 1, 15).equal(y.narrow(1, 0, 15)).all().item<bool>());
        Assert.Throws<ArgumentException>(() => data.Batch(train: false, 2, 200, generator));
    }

    [Fact]
    public async Task TrainsSavesAndServesACharacterModel()
    {
        string text = string.Concat(Enumerable.Repeat("To be, or not to be, that is the question.\n", 60));
        var tokenizer = CharTokenizer.FromCorpus(text);
        var options = new TrainingOptions
        {
            NLayer = 1, NHead = 2, NEmbd = 32, BlockSize = 32, BatchSize = 8, MaxIters = 60, LrDecayIters = 60,
            WarmupIters = 5, LearningRate = 3e-3, EvalInterval = 30, EvalIters = 4, Seed = 7,
        };
        using var data = TokenDataset.FromText(text, tokenizer);
        using (var model = Trainer.CreateModel(options, tokenizer))
        {
            var log = new StringWriter();
            var result = Trainer.Train(model, tokenizer, data, options, _folder, log);
            Assert.Equal([0, 30, 60], result.Evaluations.Select(e => e.Step));
            Assert.True(result.Evaluations[^1].TrainLoss < result.Evaluations[0].TrainLoss - 1.0, log.ToString());
            Assert.Contains("step 60: train loss", log.ToString());
            Assert.Contains("ms/iter", log.ToString());
        }
        foreach (string file in new[] { "config.json", "model.safetensors", "char_tokenizer.json", "training_log.json", "loss_curve.svg" })
        {
            Assert.True(File.Exists(Path.Combine(_folder, file)), file);
        }

        // The folder is a servable model.
        using var loaded = ModelLoader.Load(_folder, new ModelLoadOptions { Device = "cpu" });
        var loadedTokenizer = TokenizerLoader.Load(_folder);
        using var engine = new InferenceEngine(loaded, loadedTokenizer);
        var text2 = new List<string>();
        await foreach (var e in engine.Submit(new GenerationRequest { PromptTokens = loadedTokenizer.Encode("To be, or "), Parameters = new() { Temperature = 0, MaxTokens = 12 } }))
        {
            text2.Add(e.Text);
        }
        Assert.Equal(12, string.Concat(text2).Length);
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }
}
