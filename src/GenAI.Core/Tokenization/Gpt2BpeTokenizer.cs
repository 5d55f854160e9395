using System.Text.Json;
using System.Text.Json.Nodes;
using GenAI.Core.Tokenization.HuggingFace;

namespace GenAI.Core.Tokenization;

/// <summary>
/// GPT-2's byte-level BPE from a model folder's <c>vocab.json</c> and <c>merges.txt</c>: the same pipeline as
/// <see cref="HuggingFaceTokenizer"/>, configured as transformers converts these files (ByteLevel pre-tokenizer with
/// GPT-2's regex, BPE, ByteLevel decoder). <c>&lt;|endoftext|&gt;</c> is BOS and EOS unless tokenizer_config.json says
/// otherwise: a special token, never produced from ordinary text, decoding to nothing in a continuation.
/// </summary>
public sealed class Gpt2BpeTokenizer : HuggingFaceTokenizer
{
    /// <summary>GPT-2's vocabulary file.</summary>
    public const string VocabFile = "vocab.json";

    /// <summary>GPT-2's merges file.</summary>
    public const string MergesFile = "merges.txt";

    /// <summary>Hugging Face's tokenizer settings file.</summary>
    public const string ConfigFile = TokenizerConfig.FileName;

    private Gpt2BpeTokenizer(string folder, TokenizerPipeline pipeline, TokenizerConfig config) : base(folder, pipeline, config)
    {
    }

    /// <summary>True when <paramref name="folder"/> has GPT-2 tokenizer files.</summary>
    public static new bool IsPresent(string folder) =>
        File.Exists(Path.Combine(folder, VocabFile)) && File.Exists(Path.Combine(folder, MergesFile));

    /// <summary>Loads the tokenizer of a model folder.</summary>
    public static new Gpt2BpeTokenizer Load(string folder)
    {
        string vocabPath = Path.Combine(folder, VocabFile);
        string mergesPath = Path.Combine(folder, MergesFile);
        Dictionary<string, int> vocab;
        try
        {
            vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllBytes(vocabPath))
                    ?? throw new InvalidDataException($"{vocabPath}: not a JSON object of token → id");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{vocabPath}: not valid JSON: {e.Message}", e);
        }
        var merges = new List<(string, string)>();
        foreach (string line in File.ReadLines(mergesPath))
        {
            if (line.Length == 0 || line.StartsWith("#version", StringComparison.Ordinal)) continue;
            string[] parts = line.Split(' ');
            if (parts.Length != 2) throw new InvalidDataException($"{mergesPath}: line '{line}' is not two tokens separated by one space");
            merges.Add((parts[0], parts[1]));
        }
        TokenizerPipeline pipeline;
        try
        {
            var model = new BpeModel(vocab, merges, new BpeOptions { ContinuingSubwordPrefix = "", EndOfWordSuffix = "" });
            pipeline = new TokenizerPipeline(model, normalizer: null, new ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true),
                new IdentityPostProcessor(), new ByteLevelDecoder());
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{folder}: {VocabFile}/{MergesFile}: {e.Message}", e);
        }
        // transformers adds the named tokens (<|endoftext|>) as special added tokens, as for any fast tokenizer.
        var config = TokenizerConfig.Load(folder, vocab.ContainsKey);
        config.ApplyTo(pipeline);
        return new Gpt2BpeTokenizer(folder, pipeline, config);
    }

    /// <summary>
    /// Writes vocab.json, merges.txt and the tokenizer's other <see cref="HuggingFaceTokenizer.Files"/> (a
    /// tokenizer_config.json made up with GPT-2's defaults when the source had none).
    /// </summary>
    public override void Save(string modelDirectory)
    {
        Directory.CreateDirectory(modelDirectory);
        if (Path.GetFullPath(modelDirectory) == Path.GetFullPath(Folder)) return;
        File.Copy(Path.Combine(Folder, VocabFile), Path.Combine(modelDirectory, VocabFile), overwrite: true);
        File.Copy(Path.Combine(Folder, MergesFile), Path.Combine(modelDirectory, MergesFile), overwrite: true);
        CopyFiles(Folder, modelDirectory, overwrite: true);
        if (!File.Exists(Path.Combine(Folder, ConfigFile)))
        {
            var json = new JsonObject { ["tokenizer_class"] = "GPT2Tokenizer", ["add_prefix_space"] = false };
            if (EosToken is not null)
            {
                json["bos_token"] = EosToken;
                json["eos_token"] = EosToken;
                json["unk_token"] = EosToken;
            }
            File.WriteAllText(Path.Combine(modelDirectory, ConfigFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
    }
}
