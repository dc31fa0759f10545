using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Llama;

/// <summary>SwiGLU feed-forward: <c>down_proj(silu(gate_proj(x)) * up_proj(x))</c>, no biases.</summary>
public sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
    public LlamaMlp(LlamaConfig config) : base(nameof(LlamaMlp))
    {
        GateProj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false);
        UpProj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false);
        DownProj = nn.Linear(config.IntermediateSize, config.HiddenSize, hasBias: false);
        register_module("gate_proj", GateProj);
        register_module("up_proj", UpProj);
        register_module("down_proj", DownProj);
    }

    public Linear GateProj { get; }
    public Linear UpProj { get; }
    public Linear DownProj { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        return DownProj.forward(Activate(input)).MoveToOuterDisposeScope();
    }

    /// <summary><c>silu(gate(x))·up(x)</c>, the input of <c>down_proj</c> (what calibration measures for that linear).</summary>
    public Tensor Activate(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        return (nn.functional.silu(GateProj.forward(input)) * UpProj.forward(input)).MoveToOuterDisposeScope();
    }
}
