using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Bert;

/// <summary>The stack of <see cref="BertLayer"/>s (Hugging Face <c>BertEncoder</c>; parameters <c>encoder.layer.N.*</c>).</summary>
public sealed class BertEncoder : nn.Module<Tensor, Tensor, Tensor>
{
    public BertEncoder(BertConfig config) : base(nameof(BertEncoder))
    {
        Layer = new ModuleList<BertLayer>(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config)).ToArray());
        register_module("layer", Layer);
    }

    public ModuleList<BertLayer> Layer { get; }

    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = torch.NewDisposeScope();
        foreach (var layer in Layer)
        {
            hidden = layer.forward(hidden, additiveMask);
        }
        return hidden.MoveToOuterDisposeScope();
    }
}
