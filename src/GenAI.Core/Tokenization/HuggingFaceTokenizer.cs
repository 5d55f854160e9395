using System.Text;
using GenAI.Core.Checkpoints;
using GenAI.Core.Tokenization.HuggingFace;

namespace GenAI.Core.Tokenization;

/// <summary>
/// The tokenizer a model folder's <c>tokenizer.json</c> describes, built as Hugging Face's tokenizers library builds
/// it (normalizer, added tokens, pre-tokenizer, BPE model, post-processor, decoder), with what transformers' fast
/// tokenizer applies on top from <c>tokenizer_config.json</c> (see <see cref="TokenizerConfig"/>: BOS and EOS,
/// <c>added_tokens_decoder</c>'s token properties, the Llama classes' <c>add_bos_token</c>/<c>add_eos_token</c>,
/// <c>clean_up_tokenization_spaces</c>): ids and decodes equal transformers', which is what vLLM serves with. What
/// it cannot do exactly is refused when loading, with the file and the feature named. Thread-safe.
/// </summary>
public class HuggingFaceTokenizer : TextTokenizer
{
    /// <summary>Hugging Face's tokenizer file.</summary>
    public const string FileName = "tokenizer.json";

    /// <summary>
    /// The tokenizer's files in a model folder, the one list every copy of a tokenizer uses (<see cref="Save"/>, the
    /// files a fine-tuned model inherits): tokenizer.json, its config, what older tools write beside them, the chat
    /// templates and the folder of named ones (<c>tool_use</c>, ...), which <see cref="ChatTemplate.Load"/> reads. A
    /// name ending in <c>/</c> is a folder.
    /// </summary>
    public static IReadOnlyList<string> Files { get; } =
    [
        FileName, TokenizerConfig.FileName, TokenizerConfig.SpecialTokensMapFile, TokenizerConfig.AddedTokensFile,
        ChatTemplateFiles.JinjaFile, ChatTemplateFiles.JsonFile, ChatTemplateFiles.AdditionalTemplatesFolder + "/",
    ];

    private readonly TokenizerPipeline _pipeline;
    private readonly bool _cleanUpTokenizationSpaces;

    private protected HuggingFaceTokenizer(string folder, TokenizerPipeline pipeline, TokenizerConfig config)
    {
        Folder = folder;
        Config = config;
        _pipeline = pipeline;
        _cleanUpTokenizationSpaces = config.CleanUpTokenizationSpaces;
        (BosToken, BosTokenId) = Resolve(config.Bos);
        (EosToken, EosTokenId) = Resolve(config.Eos);
    }

    /// <summary>The folder the tokenizer was loaded from.</summary>
    protected string Folder { get; }

    /// <summary>The named special tokens and settings of the folder's config, as resolved for this tokenizer.</summary>
    internal TokenizerConfig Config { get; }

    /// <summary>The tokenizer.json pipeline (for tests of its parts).</summary>
    internal TokenizerPipeline Pipeline => _pipeline;

    /// <inheritdoc />
    public override int VocabSize => _pipeline.VocabSize;

    /// <inheritdoc />
    public override int? BosTokenId { get; }

    /// <inheritdoc />
    public override string? BosToken { get; }

    /// <inheritdoc />
    public override int? EosTokenId { get; }

    /// <inheritdoc />
    public override string? EosToken { get; }

    /// <summary>True when <paramref name="folder"/> has a tokenizer.json.</summary>
    public static bool IsPresent(string folder) => File.Exists(Path.Combine(folder, FileName));

    /// <summary>Loads a folder's tokenizer.json (and tokenizer_config.json, when present).</summary>
    /// <exception cref="InvalidDataException">a file is malformed, or uses a feature this implementation refuses.</exception>
    public static HuggingFaceTokenizer Load(string folder)
    {
        var pipeline = TokenizerJsonReader.Read(Path.Combine(folder, FileName));
        var config = TokenizerConfig.Load(folder, t => pipeline.TokenToId(t) is not null);
        config.ApplyTo(pipeline);
        return new HuggingFaceTokenizer(folder, pipeline, config);
    }

    /// <summary>The id of a token string (added tokens first, then the vocabulary), or null.</summary>
    public int? TokenToId(string token) => _pipeline.TokenToId(token);

    /// <summary>The token string of an id as the vocabulary writes it (<c>Ġworld</c>, <c>▁world</c>), or null.</summary>
    public string? IdToToken(int id) => _pipeline.IdToToken(id);

    /// <inheritdoc />
    public override bool IsSpecialToken(int id) => _pipeline.IsSpecial(id);

    /// <inheritdoc />
    public override IReadOnlyList<int> Encode(string text, CancellationToken cancellationToken = default) =>
        _pipeline.Encode(text, matchSpecialTokens: false, addSpecialTokens: false, cancellationToken);

    /// <summary>
    /// Token ids of text a template produced: every added token written in it matches, as Hugging Face's
    /// <c>tokenizer(text, add_special_tokens=False)</c> (what <c>apply_chat_template</c> does); no BOS is added.
    /// </summary>
    public override IReadOnlyList<int> EncodeWithSpecialTokens(string text, CancellationToken cancellationToken = default) =>
        _pipeline.Encode(text, matchSpecialTokens: true, addSpecialTokens: false, cancellationToken);

    /// <inheritdoc />
    public override IReadOnlyList<int> EncodePrompt(string text, bool addSpecialTokens = true, CancellationToken cancellationToken = default) =>
        _pipeline.Encode(text, matchSpecialTokens: true, addSpecialTokens, cancellationToken);

    /// <inheritdoc />
    public override ReadOnlySpan<byte> TokenBytes(int id)
    {
        CheckId(id);
        return _pipeline.ContinuationBytes(id);
    }

    /// <summary>
    /// Hugging Face's <c>tokenizer.decode</c>: ids without a token (the padding rows a model scores beyond its
    /// tokenizer, such as Qwen's 151669–151935) are skipped, as tokenizers' decode skips them.
    /// </summary>
    public override string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        string text = _pipeline.Decode(ids, skipSpecialTokens);
        return _cleanUpTokenizationSpaces ? CleanUpTokenization(text) : text;
    }

    /// <summary>Copies the tokenizer's <see cref="Files"/> (tokenizer.json, tokenizer_config.json, chat templates, ...) into a model folder.</summary>
    public override void Save(string modelDirectory)
    {
        if (Path.GetFullPath(modelDirectory) == Path.GetFullPath(Folder)) return;
        CopyFiles(Folder, modelDirectory, overwrite: true);
    }

    /// <summary>
    /// Copies those of <see cref="Files"/> that <paramref name="from"/> has (a folder's files one by one) into
    /// <paramref name="to"/>; without <paramref name="overwrite"/> a file <paramref name="to"/> already has is kept.
    /// </summary>
    public static void CopyFiles(string from, string to, bool overwrite)
    {
        Directory.CreateDirectory(to);
        foreach (string name in Files)
        {
            if (!name.EndsWith('/'))
            {
                CopyFile(Path.Combine(from, name), Path.Combine(to, name), overwrite);
                continue;
            }
            string folder = Path.Combine(from, name.TrimEnd('/'));
            if (!Directory.Exists(folder)) continue;
            foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            {
                string target = Path.Combine(to, name.TrimEnd('/'), Path.GetRelativePath(folder, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                CopyFile(file, target, overwrite);
            }
        }
    }

    private static void CopyFile(string source, string target, bool overwrite)
    {
        if (File.Exists(source) && (overwrite || !File.Exists(target))) DurableFiles.CopyFile(source, target);
    }

    /// <summary>transformers' <c>clean_up_tokenization</c>: no space before punctuation and English contractions.</summary>
    private static string CleanUpTokenization(string text) => new StringBuilder(text)
        .Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'")
        .Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're", "'re")
        .ToString();

    private (string?, int?) Resolve(string? token) =>
        token is not null && _pipeline.TokenToId(token) is int id ? (token, id) : (null, null);
}
