using GenAI.Core.Models;
using GenAI.Core.Models.Kernels;
using GenAI.Core.Models.Layers;
using GenAI.Core.Models.Quantization;
using static TorchSharp.torch;

namespace GenAI.Core.Tests.Models.Quantization;

/// <summary>
/// Fixture models loaded with int8 weights against the same models in float32. Measured (benchmark verb
/// <c>quantization</c>): top-1 agreement over every prompt position 87.8–98.0 % (token by token, both kernel paths) and
/// the float32 top token's log-prob moved by at most 0.53; the bounds below leave margin.
/// </summary>
public sealed class QuantizedModelTests
{
    private const double MinTopOneAgreement = 0.85;
    private const double MaxTopLogProbChange = 1.0;

    public static IEnumerable<object[]> ModelsAndPaths() =>
        from name in new[] { "gpt2-tiny" }.Concat(DecoderFixtures.Names)
        from path in new[] { Int8KernelPath.Portable, Int8KernelPath.Vnni }
        where path == Int8KernelPath.Portable || SkinnyMatmul.VnniSupported
        select new object[] { name, path };

    [Theory]
    [MemberData(nameof(ModelsAndPaths))]
    public void AgreesWithFloat32TokenByToken(string name, Int8KernelPath path)
    {
        string folder = Folder(name);
        using var reference = ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu" });
        using var quantized = ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu", Quantize = WeightQuantization.Int8 });
        int agree = 0, positions = 0;
        double maxChange = 0;
        var before = SkinnyMatmul.Int8Path;
        try
        {
            SkinnyMatmul.Int8Path = path;
            foreach (var prompt in ReferenceOutputs.Load(folder))
            {
                using var inference = inference_mode();
                using var scope = NewDisposeScope();
                var expected = nn.functional.log_softmax(reference.Forward(tensor(prompt.Ids, [1, prompt.Ids.Length]))[0], -1);
                var actual = nn.functional.log_softmax(TokenByToken(quantized, prompt.Ids), -1);
                var top = expected.argmax(-1);
                agree += (int)actual.argmax(-1).eq(top).sum().item<long>();
                positions += prompt.Ids.Length;
                var change = expected.gather(-1, top.unsqueeze(-1)).sub(actual.gather(-1, top.unsqueeze(-1))).abs().max().item<float>();
                maxChange = Math.Max(maxChange, change);
            }
        }
        finally
        {
            SkinnyMatmul.Int8Path = before;
        }
        Assert.True((double)agree / positions >= MinTopOneAgreement, $"{name} {path}: top-1 agreement {agree}/{positions}");
        Assert.True(maxChange <= MaxTopLogProbChange, $"{name} {path}: top token's log-prob moved by {maxChange}");
    }

    /// <summary>
    /// A prompt's full forward (many rows: dequantized weights and libtorch's GEMM) and the same tokens one at a time
    /// (the portable decode kernel) compute the same sums on the same dequantized weights: float32 noise only.
    /// </summary>
    [Theory]
    [MemberData(nameof(DecoderFixtures.All), MemberType = typeof(DecoderFixtures))]
    public void ManyRowAndDecodePathsAgree(string name)
    {
        string folder = Folder(name);
        using var quantized = ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu", Quantize = WeightQuantization.Int8 });
        var ids = ReferenceOutputs.Load(folder)[2].Ids;
        Assert.True(ids.Length > SkinnyMatmul.MaxRows);
        var before = SkinnyMatmul.Int8Path;
        try
        {
            SkinnyMatmul.Int8Path = Int8KernelPath.Portable;
            using var inference = inference_mode();
            using var scope = NewDisposeScope();
            var full = quantized.Forward(tensor(ids, [1, ids.Length]))[0];
            var stepwise = TokenByToken(quantized, ids);
            double maxDiff = full.sub(stepwise).abs().max().item<float>();
            Assert.True(maxDiff <= 1e-3, $"{name}: max logit difference {maxDiff}");
        }
        finally
        {
            SkinnyMatmul.Int8Path = before;
        }
    }

    [Fact]
    public void QuantizesEveryLinearLayerAndTheTiedHeadButNotTheEmbedding()
    {
        using var reference = ModelLoader.Load(TestPaths.Gpt2Tiny, new ModelLoadOptions { Device = "cpu" });
        using var quantized = ModelLoader.Load(TestPaths.Gpt2Tiny, new ModelLoadOptions { Device = "cpu", Quantize = WeightQuantization.Int8 });
        Assert.Equal(WeightQuantization.Int8, quantized.Quantization);
        Assert.Equal(reference.ParameterCount, quantized.ParameterCount);
        var layers = quantized.LinearLayers().ToList();
        Assert.Equal(8, layers.Count); // 2 blocks × c_attn, attn.c_proj, c_fc, mlp.c_proj
        Assert.NotEmpty(layers);
        Assert.All(layers, l => Assert.NotNull(l.QuantizedWeight));
        var names = quantized.named_parameters().Select(p => p.name).ToList();
        Assert.DoesNotContain(names, n => n.EndsWith("c_attn.weight", StringComparison.Ordinal) || n.EndsWith("c_fc.weight", StringComparison.Ordinal));
        Assert.Contains("wte.weight", names); // the lookup keeps the float table; the head has its own int8 copy
        Assert.Equal(ScalarType.Float32, quantized.DType);

        // int8 weights take 34/32 bytes each (+ the tied head's copy), the rest stays float32
        long linear = layers.Sum(l => (long)l.QuantizedWeight!.OutFeatures * l.QuantizedWeight.InFeatures);
        long head = quantized.Config.VocabSize * (long)quantized.Config.HiddenSize;
        long floats = quantized.parameters().Sum(p => p.numel() * 4);
        Assert.Equal(floats + (linear + head) * 34 / 32, quantized.WeightBytes);
    }

    [Fact]
    public void RefusesTrainingAndSaving()
    {
        using var model = ModelLoader.Load(TestPaths.Gpt2Tiny, new ModelLoadOptions { Device = "cpu", Quantize = WeightQuantization.Int8 });
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 1, 2, 3 }, [1, 3]);
        var training = Assert.Throws<InvalidOperationException>(() => model.Forward(ids));
        Assert.Contains("quantized to int8", training.Message);
        using var temp = new TempFolder();
        var saving = Assert.Throws<InvalidOperationException>(() => ModelLoader.Save(model, temp.Path));
        Assert.Contains("Quantize", saving.Message);
    }

    [Fact]
    public void UntiedHeadAndBFloat16ComputeDType()
    {
        string folder = Folder("mistral-tiny"); // lm_head of its own
        using var model = ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu", DType = ScalarType.BFloat16, Quantize = WeightQuantization.Int8 });
        using var reference = ModelLoader.Load(folder, new ModelLoadOptions { Device = "cpu" });
        Assert.Equal(ScalarType.BFloat16, model.DType);
        Assert.DoesNotContain(model.named_parameters(), p => p.name == "lm_head.weight");
        var ids = ReferenceOutputs.Load(folder)[2].Ids;
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var expected = reference.Forward(tensor(ids, [1, ids.Length]))[0].argmax(-1);
        var actual = model.Forward(tensor(ids, [1, ids.Length]))[0].argmax(-1);
        Assert.True(actual.eq(expected).to(ScalarType.Float32).mean().item<float>() >= 0.8f);
    }

    /// <summary>Logits [tokens, vocab] of feeding <paramref name="ids"/> one at a time through the KV cache.</summary>
    private static Tensor TokenByToken(CausalLanguageModel model, long[] ids)
    {
        using var cache = model.CreateKvCache(1, ids.Length);
        return cat(ids.Select(id => model.Forward(tensor(new[] { id }, [1, 1]), cache)[0]).ToArray(), 0);
    }

    private static string Folder(string name) => name == "gpt2-tiny" ? TestPaths.Gpt2Tiny : DecoderFixtures.Folder(name);
}
