using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Llama;

/// <summary>
/// The projections of a Llama module that run through a factored module (e.g. <c>MonarchLinear</c>) instead of their
/// dense <see cref="Linear"/>. The replacement is registered under the linear's name, so parameter names become
/// <c>…mlp.up_proj.blkdiag1</c> and load from the checkpoint by name.
/// </summary>
internal sealed class FactoredProjections
{
    private readonly Dictionary<string, nn.Module<Tensor, Tensor>> _modules = new(StringComparer.Ordinal);

    public void Use(nn.Module owner, string name, Linear dense, nn.Module<Tensor, Tensor> module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var aliases = owner.named_children().Where(c => ReferenceEquals(c.module, dense)).Select(c => c.name).ToList();
        if (!aliases.Contains(name))
        {
            throw new ArgumentException($"{owner.GetName()} has no projection '{name}'.", nameof(name));
        }
        // Unregistering (a null module) drops the dense weight from named_parameters; TorchSharp also registered the
        // Linear under its property's backing-field name, which named_parameters hid behind the explicit name.
        foreach (var alias in aliases)
        {
            owner.register_module(alias, null!);
        }
        owner.register_module(name, module);
        _modules[name] = module;
    }

    public Tensor Forward(string name, Linear dense, Tensor input) =>
        _modules.TryGetValue(name, out var module) ? module.forward(input) : dense.forward(input);
}
