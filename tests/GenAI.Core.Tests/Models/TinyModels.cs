using GenAI.Core.Models;
using GenAI.Core.Models.Gpt2;

namespace GenAI.Core.Tests.Models;

/// <summary>Small randomly initialized GPT-2 models made in code, for tests that need a checkpoint to alter.</summary>
internal static class TinyModels
{
    public static Gpt2Config Config(bool tie = true) => new()
    {
        VocabSize = 24,
        Positions = 32,
        Embedding = 16,
        Layers = 2,
        Heads = 2,
        TieWordEmbeddings = tie,
        EosTokenIds = [23],
        BosTokenId = 23,
    };

    public static CausalLanguageModel Create(Gpt2Config? config = null, long seed = 1)
    {
        var model = Gpt2Architecture.Instance.Create(config ?? Config());
        model.InitializeWeights(seed);
        model.eval();
        return model;
    }

    /// <summary>Saves a tiny model into <paramref name="folder"/> and returns its logits for a fixed input.</summary>
    public static float[] SaveTo(string folder, Gpt2Config? config = null)
    {
        using var model = Create(config);
        ModelLoader.Save(model, folder);
        return Decoding.FullLogits(model, Input);
    }

    public static readonly long[] Input = [1, 5, 9, 2, 7];
}
