using System.Text.Json.Nodes;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.FineTune.Shared;

/// <summary>Builds one method's adapter around a frozen projection, and describes the adapter for PEFT.</summary>
public interface IAdapterFactory
{
    /// <summary>PEFT's <c>peft_type</c> of the exported adapter (e.g. <c>LORA</c>, <c>MISS</c>).</summary>
    string PeftType { get; }

    AdapterLinear Create(string moduleName, Linear baseLayer);

    /// <summary>The method's fields of <c>adapter_config.json</c> (r, alpha, init mode…), added to the common ones.</summary>
    void DescribePeft(JsonObject config);
}

/// <summary>
/// A <see cref="LlamaForCausalLM"/> whose target projections run through adapters (registered under the projection's
/// name, so the frozen weight reads <c>model.layers.0.self_attn.q_proj.base_layer.weight</c>). Every other parameter is frozen.
/// </summary>
public sealed class AdaptedModel : IDisposable
{
    private AdaptedModel(LlamaForCausalLM model, IReadOnlyList<(string Path, AdapterLinear Adapter)> adapters)
    {
        Model = model;
        Adapters = adapters;
    }

    public LlamaForCausalLM Model { get; }

    /// <summary>Each adapter with its module path in Hugging Face naming (<c>model.layers.0.self_attn.q_proj</c>).</summary>
    public IReadOnlyList<(string Path, AdapterLinear Adapter)> Adapters { get; }

    /// <summary>Every trainable parameter with its full name (<c>model.layers.0.self_attn.q_proj.lora_A</c>), in a fixed order.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Trainable =>
        [.. Adapters.SelectMany(a => a.Adapter.Trainable.Select(p => ($"{a.Path}.{p.Name}", p.Parameter)))];

    public long TrainableCount => Adapters.Sum(a => a.Adapter.TrainableCount);

    /// <summary>Freezes <paramref name="model"/> and wraps <paramref name="targetModules"/> of every decoder layer with <paramref name="factory"/>'s adapters.</summary>
    public static AdaptedModel Inject(LlamaForCausalLM model, IReadOnlyList<string> targetModules, IAdapterFactory factory)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(factory);
        foreach (var parameter in model.parameters())
        {
            parameter.requires_grad = false;
        }
        var adapters = new List<(string, AdapterLinear)>();
        for (var i = 0; i < model.Model.Layers.Count; i++)
        {
            var layer = model.Model.Layers[i];
            foreach (var name in targetModules)
            {
                var (linear, attention) = Projection(layer, name);
                var adapter = factory.Create(name, linear);
                if (attention)
                {
                    layer.SelfAttn.UseFactored(name, adapter);
                }
                else
                {
                    layer.Mlp.UseFactored(name, adapter);
                }
                adapters.Add(($"model.layers.{i}.{(attention ? "self_attn" : "mlp")}.{name}", adapter));
            }
        }
        return new AdaptedModel(model, adapters);
    }

    /// <summary>The model's weights under Hugging Face names with every adapter folded in (float32).</summary>
    public IEnumerable<(string Name, Tensor Value)> MergedWeights()
    {
        var byBase = Adapters.ToDictionary(a => a.Path + ".base_layer.weight", a => a, StringComparer.Ordinal);
        foreach (var (name, parameter) in Model.named_parameters())
        {
            if (byBase.TryGetValue(name, out var adapter))
            {
                yield return (adapter.Path + ".weight", adapter.Adapter.IsMerged
                    ? parameter.detach().to(ScalarType.Float32).clone()
                    : adapter.Adapter.MergeWeight(parameter));
            }
            else if (!Adapters.Any(a => name.StartsWith(a.Path + ".", StringComparison.Ordinal)))
            {
                yield return (name, parameter.detach().to(ScalarType.Float32).clone());
            }
        }
    }

    public void Dispose() => Model.Dispose();

    private static (Linear Linear, bool Attention) Projection(LlamaDecoderLayer layer, string name) => name switch
    {
        "q_proj" => (layer.SelfAttn.QProj, true),
        "k_proj" => (layer.SelfAttn.KProj, true),
        "v_proj" => (layer.SelfAttn.VProj, true),
        "o_proj" => (layer.SelfAttn.OProj, true),
        "gate_proj" => (layer.Mlp.GateProj, false),
        "up_proj" => (layer.Mlp.UpProj, false),
        "down_proj" => (layer.Mlp.DownProj, false),
        _ => throw new ArgumentException($"unknown target module '{name}'", nameof(name)),
    };
}
