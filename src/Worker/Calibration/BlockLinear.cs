using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp.Modules;

namespace Optimizer.Worker.Calibration;

/// <summary>Where in a decoder block a linear reads its input.</summary>
public enum BlockInput
{
    /// <summary><c>input_layernorm(h)</c>: q/k/v.</summary>
    Attention = 0,
    /// <summary>The attention heads' output before <c>o_proj</c>.</summary>
    AttentionOutput = 1,
    /// <summary><c>post_attention_layernorm(h + attn)</c>: gate/up.</summary>
    Mlp = 2,
    /// <summary><c>silu(gate)·up</c>: down.</summary>
    MlpHidden = 3,
}

/// <summary>One linear of a Llama decoder block: its name inside the block (<c>self_attn.q_proj</c>), its input, its module.</summary>
public sealed record BlockLinear(string Name, BlockInput Input, Linear Module)
{
    /// <summary>The Hugging Face weight name in block <paramref name="blockIndex"/>.</summary>
    public string WeightName(int blockIndex) => $"model.layers.{blockIndex}.{Name}.weight";

    /// <summary>The seven linears of <paramref name="layer"/> in forward order.</summary>
    public static IReadOnlyList<BlockLinear> Of(LlamaDecoderLayer layer) =>
    [
        new("self_attn.q_proj", BlockInput.Attention, layer.SelfAttn.QProj),
        new("self_attn.k_proj", BlockInput.Attention, layer.SelfAttn.KProj),
        new("self_attn.v_proj", BlockInput.Attention, layer.SelfAttn.VProj),
        new("self_attn.o_proj", BlockInput.AttentionOutput, layer.SelfAttn.OProj),
        new("mlp.gate_proj", BlockInput.Mlp, layer.Mlp.GateProj),
        new("mlp.up_proj", BlockInput.Mlp, layer.Mlp.UpProj),
        new("mlp.down_proj", BlockInput.MlpHidden, layer.Mlp.DownProj),
    ];

    /// <summary>
    /// GPTQ's true-sequential order: q/k/v, then o, then gate/up, then down — each stage calibrated on the inputs the
    /// block computes after the earlier stages were modified. Without it, one stage holds all seven.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<BlockLinear>> Stages(LlamaDecoderLayer layer, bool trueSequential)
    {
        var linears = Of(layer);
        return trueSequential
            ? linears.GroupBy(l => l.Input).OrderBy(g => g.Key).Select(g => (IReadOnlyList<BlockLinear>)g.ToList()).ToList()
            : [linears];
    }
}
