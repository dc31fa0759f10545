using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune;

/// <summary>Which weights a score marks for pruning (ALGORITHMS.md 2.1, 2.2, 2.4). Masks are bool, true = set to zero.</summary>
/// <remarks>
/// Every selection takes exactly k = ⌊n·sparsity⌋ lowest scores of its comparison group (ties broken by
/// <c>topk</c> order; per row, the rows share the remainder, see <see cref="PerRow"/>), instead of Wanda's repo's
/// <c>score &lt;= threshold</c> for magnitude, which prunes every tie too: the achieved sparsity is then the target to
/// within one element per tensor.
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
    /// <remarks>
    /// Row r prunes <c>⌊(r+1)·in·s⌋ − ⌊r·in·s⌋</c> weights (⌊in·s⌋ or ⌈in·s⌉), so the tensor as a whole loses exactly
    /// ⌊out·in·s⌋: with ⌊in·s⌋ in every row, a 128-wide layer at 60 % would stop at 59.4 %, outside the report's 0.5 %.
    /// </remarks>
    public static Tensor PerRow(Tensor score, double sparsity)
    {
        using var scope = torch.NewDisposeScope();
        var rows = score.shape[0];
        var columns = score.shape[1];
        var perRow = new long[rows];
        for (var r = 0; r < rows; r++)
        {
            perRow[r] = (long)Math.Floor((r + 1) * columns * sparsity) - (long)Math.Floor(r * columns * sparsity);
        }
        var most = Math.Min(columns, perRow.Length == 0 ? 0 : perRow.Max());
        var mask = torch.zeros_like(score, ScalarType.Bool);
        if (most <= 0)
        {
            return mask.MoveToOuterDisposeScope();
        }
        var lowest = score.topk(checked((int)most), dim: -1, largest: false, sorted: true).indexes;
        var take = torch.arange(most, device: score.device).unsqueeze(0) < torch.tensor(perRow, device: score.device).unsqueeze(1);
        return mask.scatter(-1, lowest, take).MoveToOuterDisposeScope();
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
