using GenAI.Core.Checkpoints;
using GenAI.Core.Tokenization;
using static TorchSharp.torch;

namespace GenAI.Core.Models;

/// <summary>
/// The check a model must pass before it is published or served: it loads, its tokenizer and chat template load, its tokenizer fits its vocabulary,
/// and a forward pass gives finite logits of the expected shape (so NaN or exploded weights are caught too).
/// </summary>
public static class ModelCheck
{
    /// <summary>Loads <paramref name="folder"/> on the CPU with its tokenizer and runs <see cref="Check"/>; throws <see cref="CheckpointException"/> with the reason.</summary>
    public static void Run(string folder)
    {
        using var model = ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu" });
        TextTokenizer tokenizer;
        try
        {
            tokenizer = TokenizerLoader.Load(folder);
            ChatTemplate.Load(folder, tokenizer); // served chat prompts need it to parse
        }
        catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or FormatException)
        {
            throw new CheckpointException(folder, null, $"the tokenizer or chat template does not load: {e.Message}", e);
        }
        Check(model, tokenizer, folder);
    }

    /// <summary>Checks a loaded <paramref name="model"/> with <paramref name="tokenizer"/>; throws <see cref="CheckpointException"/> naming <paramref name="folder"/>.</summary>
    public static void Check(CausalLanguageModel model, TextTokenizer tokenizer, string folder)
    {
        if (tokenizer.VocabSize > model.Config.VocabSize)
        {
            throw new CheckpointException(folder, null, $"the tokenizer has {tokenizer.VocabSize} tokens but the model scores only {model.Config.VocabSize}");
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int length = Math.Min(4, model.Config.ContextLength);
        var ids = arange(length, dtype: ScalarType.Int64, device: model.Device).remainder(tokenizer.VocabSize).unsqueeze(0);
        var logits = model.Forward(ids);
        long[] expected = [1, length, model.Config.VocabSize];
        if (!logits.shape.SequenceEqual(expected))
        {
            throw new CheckpointException(folder, null, $"a forward pass gave logits of shape [{string.Join(", ", logits.shape)}], not [{string.Join(", ", expected)}]");
        }
        if (!logits.isfinite().all().item<bool>())
        {
            throw new CheckpointException(folder, null, "a forward pass gave non-finite logits (NaN or infinite weights)");
        }
    }
}
