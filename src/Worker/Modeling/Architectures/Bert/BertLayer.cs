using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Bert;

/// <summary>One post-LayerNorm transformer encoder block (Hugging Face <c>BertLayer</c>).</summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor, Tensor>
{
    public BertLayer(BertConfig config) : base(nameof(BertLayer))
    {
        Attention = new BertAttention(config);
        Intermediate = new BertIntermediate(config);
        Output = new BertResidualOutput(config.IntermediateSize, config);
        register_module("attention", Attention);
        register_module("intermediate", Intermediate);
        register_module("output", Output);
    }

    public BertAttention Attention { get; }
    public BertIntermediate Intermediate { get; }
    public BertResidualOutput Output { get; }

    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = torch.NewDisposeScope();
        var attended = Attention.forward(hidden, additiveMask);
        return Output.forward(Intermediate.forward(attended), attended).MoveToOuterDisposeScope();
    }
}
