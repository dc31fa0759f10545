using Optimizer.Worker.Methods.FineTune.Shared;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.FineTune.Lora;

/// <summary>
/// LoRA (ALGORITHMS.md 4.1): <c>y = W x + s·B(A(dropout(x)))</c>, <c>A ∈ R^{r×in}</c>, <c>B ∈ R^{out×r}</c>,
/// <c>s = α/r</c> (rsLoRA: <c>α/√r</c>). Merge adds <c>s·B·A</c> to W, unmerge subtracts it.
/// </summary>
public class LoraLinear : AdapterLinear
{
    private readonly Parameter _a;
    private readonly Parameter _b;
    private readonly double _dropout;

    /// <summary>PEFT's init: A Kaiming-uniform (a = √5), B zero, so the adapter starts as a no-op.</summary>
    public LoraLinear(Linear baseLayer, int rank, double scaling, double dropout, WeightCompander? compander, Generator? generator = null)
        : this(baseLayer, KaimingA(baseLayer, rank, generator), torch.zeros(baseLayer.weight!.shape[0], rank), scaling, dropout, compander)
    {
    }

    /// <summary>An adapter with given initial factors (PiSSA starts from singular vectors).</summary>
    protected LoraLinear(Linear baseLayer, Tensor initialA, Tensor initialB, double scaling, double dropout, WeightCompander? compander)
        : base(nameof(LoraLinear), baseLayer, compander)
    {
        ArgumentNullException.ThrowIfNull(initialA);
        ArgumentNullException.ThrowIfNull(initialB);
        Rank = (int)initialA.shape[0];
        Scaling = scaling;
        _dropout = dropout;
        _a = AddTrainable("lora_A", initialA);
        _b = AddTrainable("lora_B", initialB);
    }

    public int Rank { get; }

    /// <summary>s = α/r, or α/√r with rsLoRA.</summary>
    public double Scaling { get; }

    /// <summary>A as the model sees it (detached copy).</summary>
    public Tensor A => Value(_a);

    /// <summary>B as the model sees it (detached copy).</summary>
    public Tensor B => Value(_b);

    /// <summary>The scaling a LoRA of rank <paramref name="rank"/> uses.</summary>
    public static double ScalingFor(double alpha, int rank, bool rsLora) => rsLora ? alpha / Math.Sqrt(rank) : alpha / rank;

    public override Tensor MergeWeight(Tensor weight)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return (weight.to(ScalarType.Float32) + Delta()).MoveToOuterDisposeScope();
    }

    public override Tensor UnmergeWeight(Tensor merged)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return (merged.to(ScalarType.Float32) - Delta()).MoveToOuterDisposeScope();
    }

    public override IEnumerable<(string Name, Tensor Value)> PeftTensors()
    {
        yield return ("lora_A.weight", A);
        yield return ("lora_B.weight", B);
    }

    /// <summary>s·B·A.</summary>
    public Tensor Delta() => B.matmul(A).mul_(Scaling);

    protected override Tensor AdaptedForward(Tensor input)
    {
        var x = _dropout > 0 ? nn.functional.dropout(input, _dropout, training) : input;
        var update = nn.functional.linear(nn.functional.linear(x, Effective(_a)), Effective(_b));
        return BaseLayer.forward(input) + update * Scaling;
    }

    private static Tensor KaimingA(Linear baseLayer, int rank, Generator? generator)
    {
        // kaiming_uniform_(a=√5) on [r, in]: bound = gain·√(3/fan_in) with gain = √(2/(1+5)), i.e. 1/√in.
        var fanIn = baseLayer.weight!.shape[1];
        var bound = 1.0 / Math.Sqrt(fanIn);
        return torch.rand(rank, fanIn, generator: generator).mul_(2 * bound).sub_(bound);
    }
}
