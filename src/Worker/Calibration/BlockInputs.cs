using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Calibration;

/// <summary>The inputs a Llama block's linears read, computed step by step the way the block's forward does.</summary>
public static class BlockInputs
{
    /// <summary>
    /// Runs <paramref name="layer"/> on <paramref name="hidden"/> <c>[B, T, hidden]</c> far enough to produce the inputs
    /// up to <paramref name="last"/>; each is <c>[B, T, features]</c> in the current dispose scope.
    /// </summary>
    public static Dictionary<BlockInput, Tensor> Compute(LlamaDecoderLayer layer, Tensor hidden, Tensor cos, Tensor sin, BlockInput last)
    {
        var inputs = new Dictionary<BlockInput, Tensor>();
        var attention = layer.InputLayernorm.forward(hidden);
        inputs[BlockInput.Attention] = attention;
        if (last == BlockInput.Attention)
        {
            return inputs;
        }
        var heads = layer.SelfAttn.Attend(attention, cos, sin);
        inputs[BlockInput.AttentionOutput] = heads;
        if (last == BlockInput.AttentionOutput)
        {
            return inputs;
        }
        var mlp = layer.PostAttentionLayernorm.forward(hidden + layer.SelfAttn.OProj.forward(heads));
        inputs[BlockInput.Mlp] = mlp;
        if (last == BlockInput.Mlp)
        {
            return inputs;
        }
        inputs[BlockInput.MlpHidden] = layer.Mlp.Activate(mlp);
        return inputs;
    }
}
