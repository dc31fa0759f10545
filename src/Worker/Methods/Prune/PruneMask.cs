using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune;

/// <summary>Which weights a score marks for pruning (ALGORITHMS.md 2.1, 2.2, 2.4). Masks are bool, true = set to zero.</summary>
/// <remarks>
/// Every selection takes exactly k = ⌊n·sparsity⌋ lowest scores of its comparison group (ties broken by
/// <c>topk</c> order), instead of Wanda's repo's <c>score &lt;= threshold</c> for magnitude, which prunes every tie
/// too: the achieved sparsity is then the target to within one element per group.
/// </remarks>
public static class PruneMask
{
    /// <summary>One comparison group per tensor (magnitude pruning's per-layer threshold).</summary>
    public static Tensor PerTensor(Tensor score, double sparsity)
    {
        using var scope = torch.NewDisposeScope();
        var flat = score.flatten();
        var k = (long)Math.Floor(flat.shape[0] * sparsity);
        var mask = torch.zeros(flat.shape[0], ScalarType.Bool, score.device);
        if (k > 0)
        {
            var lowest = flat.topk(checked((int)k), largest: false).indexes;
            mask = mask.index_fill(0, lowest, true);
        }
        return mask.view(score.shape).MoveToOuterDisposeScope();
    }

    /// <summary>One comparison group per output row (Wanda).</summary>
    public static Tensor PerRow(Tensor score, double sparsity)
    {
        using var scope = torch.NewDisposeScope();
        var k = (long)Math.Floor(score.shape[1] * sparsity);
        return LowestAlongLast(score, k).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// N:M: within each row and each block of <paramref name="m"/> consecutive input columns, keep the
    /// <paramref name="n"/> highest scores and zero the other m − n. The input size must be a multiple of m.
    /// </summary>
    public static Tensor NOfM(Tensor score, int n, int m)
    {
        using var scope = torch.NewDisposeScope();
        var rows = score.shape[0];
        var columns = score.shape[1];
        if (columns % m != 0)
        {
            throw new ArgumentException($"{columns} input columns are not a multiple of {m}.", nameof(score));
        }
        var grouped = score.reshape(rows, columns / m, m);
        return LowestAlongLast(grouped, m - n).reshape(rows, columns).MoveToOuterDisposeScope();
    }

    /// <summary>The mask <paramref name="spec"/> asks for; unstructured groups are rows or whole tensors per <paramref name="scope"/>.</summary>
    public static Tensor Select(Tensor score, PruneSpec spec, PruneScope scope) =>
        spec.IsNOfM ? NOfM(score, spec.N, spec.M)
        : scope == PruneScope.PerRow ? PerRow(score, spec.Sparsity)
        : PerTensor(score, spec.Sparsity);

    private static Tensor LowestAlongLast(Tensor score, long k)
    {
        var mask = torch.zeros_like(score, ScalarType.Bool);
        if (k <= 0)
        {
            return mask;
        }
        var lowest = score.topk(checked((int)k), dim: -1, largest: false).indexes;
        return mask.scatter(-1, lowest, torch.ones_like(lowest, ScalarType.Bool));
    }
}

/// <summary>The comparison group of unstructured pruning.</summary>
public enum PruneScope
{
    /// <summary>All weights of a linear compete (magnitude, per Wanda's repo).</summary>
    PerTensor,
    /// <summary>Weights compete within their output row (Wanda).</summary>
    PerRow,
}
