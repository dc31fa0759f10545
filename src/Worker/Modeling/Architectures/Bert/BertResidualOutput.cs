using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Bert;

/// <summary>
/// <c>LayerNorm(dense(x) + residual)</c>: Hugging Face's <c>BertSelfOutput</c> (after attention) and
/// <c>BertOutput</c> (after the intermediate layer) are this same block with different input widths.
/// </summary>
public sealed class BertResidualOutput : nn.Module<Tensor, Tensor, Tensor>
{
    public BertResidualOutput(int inFeatures, BertConfig config) : base(nameof(BertResidualOutput))
    {
        Dense = nn.Linear(inFeatures, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        register_module("dense", Dense);
        register_module("LayerNorm", LayerNorm);
    }

    public Linear Dense { get; }
    public LayerNorm LayerNorm { get; }

    public override Tensor forward(Tensor input, Tensor residual)
    {
        using var scope = torch.NewDisposeScope();
        return LayerNorm.forward(Dense.forward(input) + residual).MoveToOuterDisposeScope();
    }
}
