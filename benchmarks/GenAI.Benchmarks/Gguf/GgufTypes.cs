namespace GenAI.Benchmarks.Gguf;

/// <summary>The element types of GGML tensors this exporter writes (ggml.h's <c>ggml_type</c>).</summary>
internal enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q8_0 = 8,
    BF16 = 30,
}

/// <summary>llama.cpp's <c>general.file_type</c>: the dominant tensor type of a file (gguf-py's <c>LlamaFileType</c>).</summary>
internal enum LlamaFileType : uint
{
    AllF32 = 0,
    MostlyF16 = 1,
    MostlyQ8_0 = 7,
    MostlyBF16 = 32,
}

/// <summary>The value types of GGUF metadata (gguf-py's <c>GGUFValueType</c>).</summary>
internal enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>Token kinds of <c>tokenizer.ggml.token_type</c> (gguf-py's <c>TokenType</c>).</summary>
internal enum GgufTokenType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>The precisions a Hugging Face folder exports to (llama-quantize makes the quantized ones from these).</summary>
internal enum GgufPrecision
{
    F32,
    F16,
    BF16,
}

/// <summary>Maps an export precision to GGML's types.</summary>
internal static class GgufPrecisions
{
    /// <summary>The type of the 2-D weights (norms, biases and a few named tensors stay F32, as llama.cpp wants them).</summary>
    public static GgmlType WeightType(this GgufPrecision precision) => precision switch
    {
        GgufPrecision.F16 => GgmlType.F16,
        GgufPrecision.BF16 => GgmlType.BF16,
        _ => GgmlType.F32,
    };

    /// <summary>The <c>general.file_type</c> of a file in this precision.</summary>
    public static LlamaFileType FileType(this GgufPrecision precision) => precision switch
    {
        GgufPrecision.F16 => LlamaFileType.MostlyF16,
        GgufPrecision.BF16 => LlamaFileType.MostlyBF16,
        _ => LlamaFileType.AllF32,
    };
}
