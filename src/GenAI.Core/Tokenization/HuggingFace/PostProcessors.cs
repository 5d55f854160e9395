namespace GenAI.Core.Tokenization.HuggingFace;

/// <summary>
/// A tokenizer.json post-processor, for a single sequence: the special tokens it adds around the ids when asked
/// (<c>add_special_tokens</c>). Offsets, type ids and pairs are not needed here.
/// </summary>
internal abstract class PostProcessor
{
    public abstract List<int> Process(List<int> ids);
}

/// <summary>TemplateProcessing's <c>single</c> template: special tokens (each one or more ids) around <c>$A</c>.</summary>
internal sealed class TemplatePostProcessor(IReadOnlyList<TemplatePiece> single) : PostProcessor
{
    public override List<int> Process(List<int> ids)
    {
        var result = new List<int>(ids.Count + single.Count);
        foreach (var piece in single)
        {
            if (piece.SpecialTokenIds is { } special) result.AddRange(special);
            else if (piece.IsSequenceA) result.AddRange(ids);
            // $B has no sequence in a single encoding.
        }
        return result;
    }
}

/// <summary>A piece of a template: the sequence (A or B) or a special token's ids.</summary>
internal sealed record TemplatePiece(bool IsSequenceA, IReadOnlyList<int>? SpecialTokenIds);

/// <summary>BertProcessing / RobertaProcessing: <c>cls</c> before and <c>sep</c> after the sequence.</summary>
internal sealed class SurroundingPostProcessor(int clsId, int sepId) : PostProcessor
{
    public override List<int> Process(List<int> ids) => [clsId, .. ids, sepId];
}

/// <summary>ByteLevel as a post-processor only trims offsets: the ids stay as they are.</summary>
internal sealed class IdentityPostProcessor : PostProcessor
{
    public override List<int> Process(List<int> ids) => ids;
}

/// <summary>Sequence: the processors in order.</summary>
internal sealed class SequencePostProcessor(IReadOnlyList<PostProcessor> processors) : PostProcessor
{
    public override List<int> Process(List<int> ids)
    {
        foreach (var processor in processors) ids = processor.Process(ids);
        return ids;
    }
}
