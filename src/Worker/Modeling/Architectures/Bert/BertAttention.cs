using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Bert;

/// <summary>Self-attention followed by its output projection, residual and LayerNorm (Hugging Face <c>BertAttention</c>).</summary>
public sealed class BertAttention : nn.Module<Tensor, Tensor, Tensor>
{
    public BertAttention(BertConfig config) : base(nameof(BertAttention))
    {
        Self = new BertSelfAttention(config);
        Output = new BertResidualOutput(config.HiddenSize, config);
        register_module("self", Self);
        register_module("output", Output);
    }

    public BertSelfAttention Self { get; }
    public BertResidualOutput Output { get; }

    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = torch.NewDisposeScope();
        return Output.forward(Self.forward(hidden, additiveMask), hidden).MoveToOuterDisposeScope();
    }
}
