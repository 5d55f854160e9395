using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Core.Checkpoints;
using GenAI.Core.Models;
using GenAI.Core.Models.Llama;

namespace GenAI.Core.Tests.Models;

/// <summary>
/// Reading Llama-family config.json files as transformers reads them: rotary kinds (checked against a float64
/// transcription of transformers' modeling_rope_utils in rope_reference.json, relative tolerance 1e-12), v4 and v5
/// layouts, defaults of older configs, sliding-window rules per family, and clear refusals.
/// </summary>
public sealed class LlamaConfigTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private static readonly JsonElement RopeReference =
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "tests", "GenAI.Core.Tests", "Models", "rope_reference.json"))).RootElement;

    public static IEnumerable<object[]> RopeCases() =>
        RopeReference.GetProperty("cases").EnumerateArray().Select(c => new object[] { c.GetProperty("name").GetString()! });

    private static JsonObject Base(string modelType = "llama") => new()
    {
        ["model_type"] = modelType,
        ["vocab_size"] = 32,
        ["hidden_size"] = 64,
        ["intermediate_size"] = 64,
        ["num_hidden_layers"] = 2,
        ["num_attention_heads"] = 4,
        ["num_key_value_heads"] = 2,
        ["max_position_embeddings"] = 64,
    };

    private LlamaConfig Load(JsonObject config)
    {
        File.WriteAllText(_temp.File(ModelConfig.FileName), config.ToJsonString());
        return (LlamaConfig)ModelConfig.Load(_temp.Path);
    }

    [Theory]
    [MemberData(nameof(RopeCases))]
    public void RopeFrequenciesMatchTransformers(string name)
    {
        var reference = RopeReference.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        var config = Load(JsonNode.Parse(reference.GetProperty("config").GetRawText())!.AsObject());
        var expected = reference.GetProperty("inv_freq").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var actual = config.Rope.InverseFrequencies(reference.GetProperty("sequence_length").GetInt32());
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-12 * Math.Abs(expected[i]), $"{name} inv_freq[{i}]: {actual[i]:R} vs {expected[i]:R}");
        }
        double scaling = reference.GetProperty("attention_scaling").GetDouble();
        Assert.True(Math.Abs(config.Rope.AttentionScaling - scaling) <= 1e-12, $"{name} attention scaling {config.Rope.AttentionScaling:R} vs {scaling:R}");
    }

    [Fact]
    public void UnknownRopeTypeIsRefusedByName()
    {
        var config = Base();
        config["rope_scaling"] = new JsonObject { ["type"] = "mrope", ["mrope_section"] = new JsonArray(2, 2, 4) };
        var e = Assert.Throws<CheckpointException>(() => Load(config));
        Assert.Contains("'mrope'", e.Message);
        Assert.Contains("default, linear, dynamic, llama3, yarn, longrope", e.Message);
    }

    [Fact]
    public void UnsupportedModelTypeListsTheSupportedOnes()
    {
        var e = Assert.Throws<CheckpointException>(() => Load(Base("gemma3")));
        Assert.Contains("'gemma3'", e.Message);
        Assert.Contains("gpt2, llama, mistral, qwen2, qwen3, phi3", e.Message);
    }

    [Fact]
    public void QuantizedCheckpointsAreRefused()
    {
        var config = Base();
        config["quantization_config"] = new JsonObject { ["quant_method"] = "awq" };
        Assert.Contains("quantization_config", Assert.Throws<CheckpointException>(() => Load(config)).Message);
    }

    [Fact]
    public void OlderConfigsTakeTransformersDefaults()
    {
        var config = Load(Base()); // no head_dim, rope_theta, rms_norm_eps, tie_word_embeddings
        Assert.Equal(16, config.HeadDim);
        Assert.Equal(10000, config.Rope.Theta);
        Assert.Equal(1e-6, config.RmsNormEpsilon);
        Assert.False(config.TieWordEmbeddings);
        Assert.Equal(16, config.Rope.RotaryDim);
    }

    [Fact]
    public void HeadDimFromConfigMayExceedHiddenOverHeads()
    {
        var json = Base("qwen3");
        json["head_dim"] = 32;
        var config = Load(json);
        Assert.Equal(32, config.HeadDim);
        Assert.True(config.QueryKeyNorm);
        Assert.Equal(32, config.Rope.RotaryDim);
    }

    [Fact]
    public void EosTokenIdListIsKept()
    {
        var json = Base();
        json["eos_token_id"] = new JsonArray(30, 31);
        Assert.Equal([30, 31], Load(json).EosTokenIds);
    }

    [Fact]
    public void TransformersV5RopeParametersCarryTheta()
    {
        var json = Base();
        json["rope_parameters"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = 1e6 };
        var config = Load(json);
        Assert.Equal(1e6, config.Rope.Theta);
    }

    [Fact]
    public void BiasesFollowEachFamily()
    {
        var qwen2 = Load(Base("qwen2"));
        Assert.True(qwen2.QkvBias);
        Assert.False(qwen2.OutputBias);
        var llama = Base();
        llama["attention_bias"] = true;
        llama["mlp_bias"] = true;
        var withBias = Load(llama);
        Assert.True(withBias.QkvBias && withBias.OutputBias && withBias.MlpBias);
        Assert.False(Load(Base("mistral")).QkvBias);
        Assert.True(Load(Base("phi3")).FusedProjections);
    }

    [Fact]
    public void SlidingWindowsFollowEachFamily()
    {
        var mistral = Base("mistral");
        Assert.Equal([4096, 4096], Load(mistral).SlidingWindows); // transformers' default when the field is absent
        mistral["sliding_window"] = null;
        Assert.Equal([null, null], Load(mistral).SlidingWindows);
        mistral["sliding_window"] = 8;
        mistral["layer_types"] = new JsonArray("full_attention", "sliding_attention");
        Assert.Equal([null, 8], Load(mistral).SlidingWindows);

        var qwen = Base("qwen2");
        qwen["sliding_window"] = 16;
        qwen["max_window_layers"] = 1;
        Assert.Equal([null, null], Load(qwen).SlidingWindows); // use_sliding_window is false
        qwen["use_sliding_window"] = true;
        Assert.Equal([null, 16], Load(qwen).SlidingWindows);

        var llama = Base();
        llama["sliding_window"] = 8; // Llama has no sliding attention
        Assert.Equal([null, null], Load(llama).SlidingWindows);
    }

    [Fact]
    public void HeadsMustShareKeyValueHeadsEvenly()
    {
        var json = Base();
        json["num_key_value_heads"] = 3;
        Assert.Contains("num_key_value_heads", Assert.Throws<CheckpointException>(() => Load(json)).Message);
    }

    public void Dispose() => _temp.Dispose();
}
