using GenAI.Core.Models.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Layers;

/// <summary>A lookup table [count, width] with a <c>weight</c> parameter (tokens or positions).</summary>
public sealed class EmbeddingTable : nn.Module
{
    [ComponentName(Name = "weight")]
    private readonly Parameter _weight;

    /// <summary>Creates the table with uninitialized rows.</summary>
    public EmbeddingTable(int count, int width) : base(nameof(EmbeddingTable))
    {
        Count = count;
        _weight = new Parameter(empty(count, width));
        register_parameter("weight", _weight);
    }

    /// <summary>Number of rows.</summary>
    public int Count { get; }

    /// <summary>The table.</summary>
    public Tensor Weight => _weight;

    /// <summary>Rows for an index tensor of any shape; the result has the index shape plus the width.</summary>
    public Tensor Lookup(Tensor indices)
    {
        long[] shape = [.. TensorMemory.Shape(indices), _weight.size(1)];
        return _weight.index_select(0, indices.reshape(-1)).view(shape);
    }
}
