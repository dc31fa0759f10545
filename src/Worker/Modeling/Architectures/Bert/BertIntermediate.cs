using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Bert;

/// <summary>The feed-forward expansion and its activation (Hugging Face <c>BertIntermediate</c>).</summary>
public sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly bool _tanhGelu;

    public BertIntermediate(BertConfig config) : base(nameof(BertIntermediate))
    {
        // "gelu" is the exact erf form; gelu_new and gelu_pytorch_tanh are the tanh approximation.
        _tanhGelu = config.HiddenAct != "gelu";
        Dense = nn.Linear(config.HiddenSize, config.IntermediateSize);
        register_module("dense", Dense);
    }

    public Linear Dense { get; }

    public override Tensor forward(Tensor hidden)
    {
        using var scope = torch.NewDisposeScope();
        var x = Dense.forward(hidden);
        var activated = _tanhGelu
            ? 0.5 * x * (1.0 + torch.tanh(Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x.pow(3))))
            : nn.functional.gelu(x);
        return activated.MoveToOuterDisposeScope();
    }
}
