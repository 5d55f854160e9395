using TorchSharp;
using static TorchSharp.torch;

namespace GenAI.Core.Models.Layers;

/// <summary>
/// The gated feed-forward block of Llama-family models: down(act(gate(x)) · up(x)) — SwiGLU with <c>silu</c>. Either
/// separate <c>gate_proj</c> and <c>up_proj</c>, or Phi-3's fused <c>gate_up_proj</c> (gate rows, then up rows).
/// </summary>
public sealed class GatedMlp : nn.Module
{
    private readonly LinearLayer? _gate;
    private readonly LinearLayer? _up;
    private readonly LinearLayer? _gateUp;
    private readonly LinearLayer _down;
    private readonly string _activation;
    private readonly int _intermediate;

    /// <summary>Creates the block with uninitialized weights.</summary>
    public GatedMlp(int hidden, int intermediate, string activation, bool bias, bool fused) : base(nameof(GatedMlp))
    {
        _activation = activation;
        _intermediate = intermediate;
        if (fused)
        {
            _gateUp = new LinearLayer(hidden, 2 * intermediate, bias);
            register_module("gate_up_proj", _gateUp);
        }
        else
        {
            _gate = new LinearLayer(hidden, intermediate, bias);
            _up = new LinearLayer(hidden, intermediate, bias);
            register_module("gate_proj", _gate);
            register_module("up_proj", _up);
        }
        _down = new LinearLayer(intermediate, hidden, bias);
        register_module("down_proj", _down);
    }

    /// <summary>Applies the block.</summary>
    public Tensor Apply(Tensor x)
    {
        Tensor gate, up;
        if (_gateUp is not null)
        {
            var both = _gateUp.Apply(x);
            gate = both.narrow(-1, 0, _intermediate);
            up = both.narrow(-1, _intermediate, _intermediate);
        }
        else
        {
            var projected = LinearLayer.ApplyAll(x, _gate!, _up!);
            (gate, up) = (projected[0], projected[1]);
        }
        return _down.Apply(Activate(gate).mul_(up));
    }

    private Tensor Activate(Tensor x) => _activation switch
    {
        "silu" or "swish" => nn.functional.silu(x),
        "gelu" => nn.functional.gelu(x),
        "relu" => nn.functional.relu(x),
        _ => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh), // gelu_new, gelu_pytorch_tanh
    };
}
