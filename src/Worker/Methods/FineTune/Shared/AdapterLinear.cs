using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.FineTune.Shared;

/// <summary>
/// A trainable adapter around one frozen projection (PEFT's "tuner layer"). The frozen <see cref="Linear"/> is
/// registered as <c>base_layer</c> as in PEFT, so parameter names read <c>…q_proj.base_layer.weight</c>,
/// <c>…q_proj.lora_A</c>.
/// </summary>
/// <remarks>
/// With a <see cref="WeightCompander"/> each trainable parameter stores the pre-image v and the forward uses f(v)
/// (<see cref="Effective"/>); everything exported (merge, PEFT tensors) uses f(v).
/// </remarks>
public abstract class AdapterLinear : nn.Module<Tensor, Tensor>
{
    private readonly List<(string Name, Parameter Parameter)> _trainable = [];

    protected AdapterLinear(string name, Linear baseLayer, WeightCompander? compander) : base(name)
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        BaseLayer = baseLayer;
        Compander = compander;
        baseLayer.weight!.requires_grad = false;
        register_module("base_layer", baseLayer);
    }

    /// <summary>The frozen projection (its weight is the residual for PiSSA).</summary>
    public Linear BaseLayer { get; }

    public WeightCompander? Compander { get; }

    /// <summary>True after <see cref="Merge"/>: the base weight holds the merged weight and the forward is the plain linear.</summary>
    public bool IsMerged { get; private set; }

    /// <summary>The trainable parameters by their local (PEFT) name, raw (the compander's pre-image when one is used).</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Trainable => _trainable;

    public long TrainableCount => _trainable.Sum(p => p.Parameter.numel());

    public Tensor BaseWeight => BaseLayer.weight!;

    public override Tensor forward(Tensor input)
    {
        if (IsMerged)
        {
            return BaseLayer.forward(input);
        }
        using var scope = torch.NewDisposeScope();
        return AdaptedForward(input).MoveToOuterDisposeScope();
    }

    /// <summary>The weight with the adapter folded in (detached, float32), from <paramref name="weight"/> (the unmerged base weight).</summary>
    public abstract Tensor MergeWeight(Tensor weight);

    /// <summary>The inverse of <see cref="MergeWeight"/>: the base weight recovered from a merged one.</summary>
    public abstract Tensor UnmergeWeight(Tensor merged);

    /// <summary>The adapter's tensors under their PEFT names relative to the module (e.g. <c>lora_A.weight</c>).</summary>
    public abstract IEnumerable<(string Name, Tensor Value)> PeftTensors();

    /// <summary>Folds the adapter into the base weight; the forward then equals the unmerged one.</summary>
    public void Merge()
    {
        if (IsMerged)
        {
            return;
        }
        using var noGrad = torch.no_grad();
        using var merged = MergeWeight(BaseWeight);
        BaseWeight.copy_(merged);
        IsMerged = true;
    }

    /// <summary>Takes the adapter back out of the base weight.</summary>
    public void Unmerge()
    {
        if (!IsMerged)
        {
            return;
        }
        using var noGrad = torch.no_grad();
        using var original = UnmergeWeight(BaseWeight);
        BaseWeight.copy_(original);
        IsMerged = false;
    }

    /// <summary>The forward with the adapter applied (the base weight unmerged).</summary>
    protected abstract Tensor AdaptedForward(Tensor input);

    /// <summary>Registers a trainable parameter holding <paramref name="initial"/> (stored as the compander's pre-image when one is used).</summary>
    protected Parameter AddTrainable(string name, Tensor initial)
    {
        using var noGrad = torch.no_grad();
        var stored = Compander is null ? initial.detach().clone() : Compander.Inverse(initial);
        var parameter = new Parameter(stored, requires_grad: true);
        register_parameter(name, parameter);
        _trainable.Add((name, parameter));
        return parameter;
    }

    /// <summary>The value the forward uses: f(v) with the compander, else the parameter itself.</summary>
    protected Tensor Effective(Parameter parameter) => Compander is null ? parameter : Compander.Apply(parameter);

    /// <summary>Detached float32 value of a trainable parameter as the model sees it.</summary>
    protected Tensor Value(Parameter parameter)
    {
        using var noGrad = torch.no_grad();
        return Effective(parameter).detach().to(ScalarType.Float32).clone();
    }
}
