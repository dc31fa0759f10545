using Optimizer.Domain.Methods.FineTune.Bone;
using Optimizer.Worker.Methods.FineTune.Shared;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.FineTune.Bone;

/// <summary>
/// Bone / MiSS (ALGORITHMS.md 4.3, PEFT <c>miss</c>), zero at init.
/// <list type="bullet">
/// <item><c>balance</c>: <c>B ∈ R^{r×out}</c>, <c>y = W x + (Σ_c x_c)·B</c> over the r-chunks of x (zero-padded), i.e.
/// <c>ΔW[o, c·r+j] = B[j, o]</c>.</item>
/// <item><c>bat</c>: <c>B ∈ R^{(out/r)×r×r}</c>, <c>W'_{ij} = W_{ij} + W_{ij}·B_i + B_i</c> over r×r blocks (i = row block);
/// unmerge <c>W_{ij} = (W'_{ij} − B_i)(I + B_i)⁻¹</c>.</item>
/// </list>
/// </summary>
public sealed class BoneLinear : AdapterLinear
{
    private readonly Parameter _block;
    private readonly int _rank;
    private readonly bool _bat;

    public BoneLinear(Linear baseLayer, string mode, int rank, WeightCompander? compander)
        : base(nameof(BoneLinear), baseLayer, compander)
    {
        var outFeatures = baseLayer.weight!.shape[0];
        var inFeatures = baseLayer.weight.shape[1];
        _rank = rank;
        _bat = mode == BoneOptions.Bat;
        if (_bat && (outFeatures % rank != 0 || inFeatures % rank != 0))
        {
            throw new ArgumentException($"Bone \"bat\" needs in ({inFeatures}) and out ({outFeatures}) to be multiples of r = {rank}.", nameof(rank));
        }
        using var initial = _bat ? torch.zeros(outFeatures / rank, rank, rank) : torch.zeros(rank, outFeatures);
        _block = AddTrainable("miss_block", initial);
    }

    /// <summary>The block as the model sees it (detached copy).</summary>
    public Tensor Block => Value(_block);

    public override Tensor MergeWeight(Tensor weight)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var w = weight.to(ScalarType.Float32);
        var merged = _bat ? BatWeight(w, Block) : w + BalanceDelta(w, Block);
        return merged.MoveToOuterDisposeScope();
    }

    public override Tensor UnmergeWeight(Tensor merged)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var w = merged.to(ScalarType.Float32);
        if (!_bat)
        {
            return (w - BalanceDelta(w, Block)).MoveToOuterDisposeScope();
        }
        var block = Block.to(ScalarType.Float64);
        var blocks = Blocks(w.to(ScalarType.Float64), _rank);
        var inverse = torch.linalg.inv(torch.eye(_rank, dtype: ScalarType.Float64) + block);
        return FromBlocks((blocks - block).matmul(inverse), w.shape).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    public override IEnumerable<(string Name, Tensor Value)> PeftTensors()
    {
        yield return ("miss_block", Block);
    }

    protected override Tensor AdaptedForward(Tensor input)
    {
        var block = Effective(_block);
        if (_bat)
        {
            // The weight-guided form mixes W's own columns: build W' densely, as PEFT does.
            return nn.functional.linear(input, BatWeight(BaseWeight, block));
        }
        var x = input;
        var remainder = x.shape[^1] % _rank;
        if (remainder != 0)
        {
            x = nn.functional.pad(x, [0, _rank - remainder]);
        }
        var chunks = x.reshape([.. x.shape[..^1], x.shape[^1] / _rank, _rank]).sum(-2);
        return BaseLayer.forward(input) + chunks.matmul(block);
    }

    /// <summary>Bᵀ tiled over every r-column chunk of W (the last, partial chunk gets the first in % r columns).</summary>
    private Tensor BalanceDelta(Tensor w, Tensor block)
    {
        var inFeatures = w.shape[1];
        var chunks = (inFeatures + _rank - 1) / _rank;
        return block.t().repeat(1, chunks).narrow(1, 0, inFeatures);
    }

    /// <summary>W + W_ij·B_i + B_i over the r×r blocks.</summary>
    private Tensor BatWeight(Tensor w, Tensor block)
    {
        var blocks = Blocks(w, _rank);
        return FromBlocks(blocks + blocks.matmul(block) + block, w.shape);
    }

    /// <summary>[out, in] → [in/r (j), out/r (i), r, r]: block (i, j) at [j, i] so that <c>@ B</c> broadcasts B_i over j.</summary>
    private static Tensor Blocks(Tensor w, int r) =>
        w.reshape(w.shape[0] / r, r, w.shape[1] / r, r).permute(2, 0, 1, 3);

    private static Tensor FromBlocks(Tensor blocks, long[] shape) => blocks.permute(1, 2, 0, 3).reshape(shape);
}
