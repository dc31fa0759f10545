using Optimizer.Worker.Calibration;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Awq;

/// <summary>
/// AWQ's scale groups of a Llama block (ALGORITHMS.md 1.5): the linears sharing one input, the op before them that
/// absorbs <c>1/s</c>, and the module whose output the scale search compares. Keyed by <see cref="BlockInput"/>.
/// </summary>
public static class AwqScaling
{
    /// <summary>The linears reading <paramref name="input"/> (the ones multiplied by s).</summary>
    public static IReadOnlyList<Linear> Scaled(LlamaDecoderLayer layer, BlockInput input) => input switch
    {
        BlockInput.Attention => [layer.SelfAttn.QProj, layer.SelfAttn.KProj, layer.SelfAttn.VProj],
        BlockInput.AttentionOutput => [layer.SelfAttn.OProj],
        BlockInput.Mlp => [layer.Mlp.GateProj, layer.Mlp.UpProj],
        _ => [layer.Mlp.DownProj],
    };

    /// <summary>
    /// Whether the group can be folded: v_proj → o_proj only when their weights have the same shape (no grouped-query
    /// attention, where v's outputs are repeated across heads), as AutoAWQ does.
    /// </summary>
    public static bool CanFold(LlamaDecoderLayer layer, BlockInput input) =>
        input != BlockInput.AttentionOutput || layer.SelfAttn.VProj.weight!.shape.SequenceEqual(layer.SelfAttn.OProj.weight!.shape);

    /// <summary>The Hugging Face name (inside the block) of the op that absorbs <c>1/s</c>.</summary>
    public static string PreviousName(BlockInput input) => input switch
    {
        BlockInput.Attention => "input_layernorm",
        BlockInput.AttentionOutput => "self_attn.v_proj",
        BlockInput.Mlp => "post_attention_layernorm",
        _ => "mlp.up_proj",
    };

    /// <summary>
    /// Folds <paramref name="scales"/> <c>[in]</c> into the block: the previous op's output is divided by s (an RMSNorm's
    /// weight, or a linear's output rows) and the scaled linears' input columns are multiplied by s, so the block computes
    /// the same function before quantization.
    /// </summary>
    public static void Fold(LlamaDecoderLayer layer, BlockInput input, Tensor scales)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var s = scales.to(ScalarType.Float32);
        switch (input)
        {
            case BlockInput.Attention:
                layer.InputLayernorm.Weight.div_(s);
                break;
            case BlockInput.AttentionOutput:
                layer.SelfAttn.VProj.weight!.div_(s.unsqueeze(1));
                break;
            case BlockInput.Mlp:
                layer.PostAttentionLayernorm.Weight.div_(s);
                break;
            default:
                layer.Mlp.UpProj.weight!.div_(s.unsqueeze(1));
                break;
        }
        foreach (var linear in Scaled(layer, input))
        {
            linear.weight!.mul_(s.unsqueeze(0));
        }
    }

    /// <summary>The module the scale search compares (<c>module2inspect</c>): attention, o_proj, MLP or down_proj.</summary>
    public static Tensor Inspect(LlamaDecoderLayer layer, BlockInput input, Tensor x, Tensor cos, Tensor sin) => input switch
    {
        BlockInput.Attention => layer.SelfAttn.forward(x, cos, sin),
        BlockInput.AttentionOutput => layer.SelfAttn.OProj.forward(x),
        BlockInput.Mlp => layer.Mlp.forward(x),
        _ => layer.Mlp.DownProj.forward(x),
    };
}
