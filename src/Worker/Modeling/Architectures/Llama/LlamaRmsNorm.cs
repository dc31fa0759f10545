using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Llama;

/// <summary>RMSNorm as in Hugging Face <c>LlamaRMSNorm</c>: <c>weight * x / sqrt(mean(x²) + eps)</c>, computed in float32.</summary>
public sealed class LlamaRmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly double _eps;

    public LlamaRmsNorm(long hiddenSize, double eps) : base(nameof(LlamaRmsNorm))
    {
        _eps = eps;
        Weight = new Parameter(torch.ones(hiddenSize));
        register_parameter("weight", Weight);
    }

    public Parameter Weight { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var hidden = input.to(ScalarType.Float32);
        var variance = hidden.pow(2).mean([-1], keepdim: true);
        var normalized = hidden * torch.rsqrt(variance + _eps);
        return (Weight * normalized.to(input.dtype)).MoveToOuterDisposeScope();
    }
}
