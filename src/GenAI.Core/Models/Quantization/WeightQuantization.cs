namespace GenAI.Core.Models.Quantization;

/// <summary>How a model's linear-layer weights are kept in memory.</summary>
public enum WeightQuantization
{
    /// <summary>As the compute dtype (float32, bfloat16 or float16).</summary>
    None,

    /// <summary>
    /// int8 as llama.cpp's Q8_0 (<see cref="Q8_0Weight"/>): every linear layer's weight, and the LM head (a tied head gets
    /// its own quantized copy; the embedding lookup keeps the float table). Inference only.
    /// </summary>
    Int8,
}
