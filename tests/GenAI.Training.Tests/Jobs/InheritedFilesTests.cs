using GenAI.Core.Tokenization;
using GenAI.Training.Jobs;

namespace GenAI.Training.Tests.Jobs;

/// <summary>What a fine-tuned model takes from its base model's folder.</summary>
public sealed class InheritedFilesTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "genai-inherit-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void TheTokenizersFilesNamedTemplatesAndGenerationDefaultsAreInherited()
    {
        string from = Path.Combine(_root, "base"), to = Path.Combine(_root, "output");
        Directory.CreateDirectory(Path.Combine(from, "additional_chat_templates"));
        Directory.CreateDirectory(to);
        foreach (string name in HuggingFaceTokenizer.Files.Where(n => !n.EndsWith('/')).Append("generation_config.json").Append("model.safetensors"))
        {
            File.WriteAllText(Path.Combine(from, name), "base " + name);
        }
        File.WriteAllText(Path.Combine(from, "additional_chat_templates", "tool_use.jinja"), "tools");
        File.WriteAllText(Path.Combine(to, "tokenizer.json"), "trained");

        JobRunner.CopyMissingFiles(from, to);

        Assert.Equal("trained", File.ReadAllText(Path.Combine(to, "tokenizer.json")));
        Assert.Equal("tools", File.ReadAllText(Path.Combine(to, "additional_chat_templates", "tool_use.jinja")));
        foreach (string name in new[] { "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "chat_template.jinja", "chat_template.json", "generation_config.json" })
        {
            Assert.Equal("base " + name, File.ReadAllText(Path.Combine(to, name)));
        }
        Assert.False(File.Exists(Path.Combine(to, "model.safetensors")));
    }
}
