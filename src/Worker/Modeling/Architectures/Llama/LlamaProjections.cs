using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Llama;

/// <summary>
/// The decoder projections of a <see cref="LlamaForCausalLM"/> by their Hugging Face prefix
/// (<c>model.layers.N.self_attn.q_proj</c> … <c>model.layers.N.mlp.down_proj</c>): where a factored or kernel module
/// replaces a dense linear.
/// </summary>
public static class LlamaProjections
{
    /// <summary>The seven projections of one decoder layer, after <c>model.layers.N.</c>.</summary>
    public static readonly string[] Names =
        ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];

    /// <summary>Every projection prefix of <paramref name="model"/>, layer by layer.</summary>
    public static IEnumerable<string> Prefixes(LlamaForCausalLM model) =>
        Enumerable.Range(0, model.Model.Layers.Count).SelectMany(i => Names.Select(n => $"model.layers.{i}.{n}"));

    /// <summary>The dense linear of projection <paramref name="prefix"/> (its shape, even after it was replaced).</summary>
    /// <exception cref="InvalidDataException">The prefix names no projection of the model.</exception>
    public static Linear Dense(LlamaForCausalLM model, string prefix)
    {
        var (layer, group, projection) = Parse(model, prefix);
        return (group, projection) switch
        {
            ("self_attn", "q_proj") => layer.SelfAttn.QProj,
            ("self_attn", "k_proj") => layer.SelfAttn.KProj,
            ("self_attn", "v_proj") => layer.SelfAttn.VProj,
            ("self_attn", "o_proj") => layer.SelfAttn.OProj,
            ("mlp", "gate_proj") => layer.Mlp.GateProj,
            ("mlp", "up_proj") => layer.Mlp.UpProj,
            ("mlp", "down_proj") => layer.Mlp.DownProj,
            _ => throw new InvalidDataException($"'{prefix}' names no Llama projection."),
        };
    }

    /// <summary>Runs projection <paramref name="prefix"/> through <paramref name="module"/>, registered under its name.</summary>
    /// <exception cref="InvalidDataException">The prefix names no projection of the model.</exception>
    public static void Use(LlamaForCausalLM model, string prefix, nn.Module<Tensor, Tensor> module)
    {
        _ = Dense(model, prefix);
        var (layer, group, projection) = Parse(model, prefix);
        if (group == "mlp")
        {
            layer.Mlp.UseFactored(projection, module);
        }
        else
        {
            layer.SelfAttn.UseFactored(projection, module);
        }
    }

    private static (LlamaDecoderLayer Layer, string Group, string Projection) Parse(LlamaForCausalLM model, string prefix)
    {
        var parts = prefix.Split('.');
        if (parts is not ["model", "layers", var index, var group, var projection]
            || !int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var layer)
            || layer >= model.Model.Layers.Count)
        {
            throw new InvalidDataException($"'{prefix}' is not model.layers.N.(self_attn|mlp).<proj>.");
        }
        return (model.Model.Layers[layer], group, projection);
    }
}
