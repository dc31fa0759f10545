using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Llama;

/// <summary>
/// SwiGLU feed-forward: <c>down_proj(silu(gate_proj(x)) * up_proj(x))</c>, no biases — except an optional <c>down_proj</c>
/// bias (<see cref="AddDownProjBias"/>), which D²Quant's deviation correction writes and which loads when a folder stores it.
/// </summary>
public sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
    private readonly FactoredProjections _factored = new();

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

    /// <summary>Gives <c>down_proj</c> a zero bias (<c>mlp.down_proj.bias</c>) unless it has one; returns it.</summary>
    public Parameter AddDownProjBias()
    {
        if (DownProj.bias is null)
        {
            var weight = DownProj.weight!;
            DownProj.bias = new Parameter(torch.zeros(weight.shape[0], dtype: weight.dtype, device: weight.device), requires_grad: weight.requires_grad);
        }
        return DownProj.bias!;
    }

    /// <summary>Runs projection <paramref name="name"/> (<c>gate_proj</c>, <c>up_proj</c>, <c>down_proj</c>) through <paramref name="module"/> (see <see cref="LlamaAttention.UseFactored"/>).</summary>
    public void UseFactored(string name, nn.Module<Tensor, Tensor> module) => _factored.Use(this, name, name switch
    {
        "gate_proj" => GateProj,
        "up_proj" => UpProj,
        "down_proj" => DownProj,
        _ => throw new ArgumentException($"LlamaMlp has no projection '{name}'.", nameof(name)),
    }, module);

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        return _factored.Forward("down_proj", DownProj, Activate(input)).MoveToOuterDisposeScope();
    }

    /// <summary><c>silu(gate(x))·up(x)</c>, the input of <c>down_proj</c> (what calibration measures for that linear).</summary>
    public Tensor Activate(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        return (nn.functional.silu(_factored.Forward("gate_proj", GateProj, input)) * _factored.Forward("up_proj", UpProj, input))
            .MoveToOuterDisposeScope();
    }
}
