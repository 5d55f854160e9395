using GenAI.Server.Hosting;

namespace GenAI.Server.Tests;

/// <summary>The Quantize setting: int8 weights served, an unknown value refused at start-up.</summary>
public sealed class QuantizedServingTests
{
    [Fact]
    public void UnknownQuantizeValueStopsTheServerAtStartUpNamingTheSetting()
    {
        using var factory = ServerFactory.With(new() { ["GenAI:Quantize"] = "int4" });
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("Quantize", error.ToString());
        Assert.Contains("int8", error.ToString()); // the allowed values are named too
    }

    [Fact]
    public void QuantizeFlagMapsToTheSetting()
    {
        Assert.Equal(["--GenAI:Quantize=int8"], CommandLine.Normalize(["--quantize", "int8"]));
        Assert.Equal(["--GenAI:Quantize=none"], CommandLine.Normalize(["--quantize=none"]));
    }

    [Fact]
    public async Task ServesInt8Weights()
    {
        using var factory = ServerFactory.With(new() { ["GenAI:Quantize"] = "int8" });
        var client = await factory.ReadyClientAsync();
        var (_, card) = await Http.GetAsync(client, "/v1/models/gpt2-tiny");
        Assert.Equal("int8", card.GetProperty("quantization").GetString());
        Assert.Equal("float32", card.GetProperty("dtype").GetString());
        var (status, completion) = await Http.PostAsync(client, "/v1/completions", """{"prompt": "The quick brown fox", "max_tokens": 8, "temperature": 0}""");
        Assert.Equal(200, status);
        Assert.Equal(8, completion.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }
}
