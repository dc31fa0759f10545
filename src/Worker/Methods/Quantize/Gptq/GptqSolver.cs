using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Gptq;

/// <summary>
/// GPTQ's <c>fasterquant</c> (ALGORITHMS.md 1.2) for one linear: dead columns, act-order, dampening, the upper Cholesky
/// factor U of H⁻¹, column-by-column rounding with OBS error feedback inside blocks of <c>BlockSize</c> columns and lazy
/// batched updates of the rest; optionally the GPTAQ / ResComp corrections (1.3, 1.4). The rounding grid is pluggable
/// (<see cref="IColumnQuantizer"/>) so other grids (FP4) reuse the same solver.
/// </summary>
/// <remarks>
/// Weights are updated in float32 as in the reference; H is damped and factored in float64. A group's grid is fitted to
/// the group's columns as fully updated at the moment its first column is reached (the reference reads the global W,
/// which lacks the current block's pending updates when a group starts mid-block): that keeps the result independent
/// of <c>BlockSize</c>. ResComp's <c>'org'</c> and <c>'allw'</c> modes coincide here: after a block's inner loop its
/// columns already equal their rounded values, so clamping them to the grid changes nothing [interp].
/// </remarks>
public static class GptqSolver
{
    /// <param name="weight"><c>[out, in]</c> (not modified).</param>
    /// <param name="hessian"><c>[in, in]</c>, e.g. <see cref="Calibration.HessianAccumulator.Value"/> (not modified).</param>
    /// <param name="quantizer">The grid.</param>
    /// <param name="settings">Group size, block size, act-order, static groups, dampening.</param>
    /// <param name="correction">GPTAQ / ResComp terms, or null for plain GPTQ.</param>
    public static GptqSolution Solve(Tensor weight, Tensor hessian, IColumnQuantizer quantizer, GptqSolverSettings settings,
        GptqCorrection? correction = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(hessian);
        ArgumentNullException.ThrowIfNull(quantizer);
        ArgumentNullException.ThrowIfNull(settings);
        var rows = weight.shape[0];
        var columns = (int)weight.shape[1];
        var groupSize = settings.GroupSize == -1 ? columns : settings.GroupSize;
        if (hessian.shape.Length != 2 || hessian.shape[0] != columns || hessian.shape[1] != columns)
        {
            throw new ArgumentException($"hessian must be [{columns}, {columns}].", nameof(hessian));
        }
        if (groupSize <= 0 || columns % groupSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.GroupSize, $"group size must be -1 or divide {columns}.");
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.BlockSize);

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var w = weight.to(ScalarType.Float32).clone();
        var h = hessian.to(ScalarType.Float64).clone();
        var dead = h.diagonal().eq(0);
        h.diagonal().masked_fill_(dead, 1);
        w.masked_fill_(dead.unsqueeze(0), 0);
        var original = correction is { ResidualAlpha: > 0 } ? w.clone() : null;

        var grids = new List<IColumnGrid>();
        var staticGrids = new List<IColumnGrid>();
        if (settings.StaticGroups || settings.GroupSize == -1)
        {
            for (var start = 0; start < columns; start += groupSize)
            {
                staticGrids.Add(quantizer.Fit(w.narrow(1, start, groupSize)));
            }
            grids.AddRange(staticGrids);
        }

        var perm = settings.ActOrder ? h.diagonal().argsort(descending: true) : torch.arange(columns, dtype: ScalarType.Int64);
        var permutation = perm.data<long>().ToArray();
        if (settings.ActOrder)
        {
            w = w.index_select(1, perm);
            h = h.index_select(0, perm).index_select(1, perm);
            original = original?.index_select(1, perm);
        }
        var (p, r) = CorrectionTerms(correction, hessian, dead, perm, settings.ActOrder, h, settings.DampPercent, out var u);

        var quantized = torch.zeros_like(w);
        var groupOfPosition = new int[columns];
        IColumnGrid? current = null;
        var loss = 0.0;
        for (var i1 = 0; i1 < columns; i1 += settings.BlockSize)
        {
            using var blockScope = torch.NewDisposeScope();
            var count = Math.Min(settings.BlockSize, columns - i1);
            var i2 = i1 + count;
            var w1 = w.narrow(1, i1, count).clone();
            var err1 = torch.zeros_like(w1);
            var u1 = u.narrow(0, i1, count).narrow(1, i1, count);
            var p1 = p?.narrow(0, i1, count).narrow(1, i1, count);
            var r1 = r?.narrow(0, i1, count).narrow(1, i1, count);
            var org1 = original?.narrow(1, i1, count);
            for (var i = 0; i < count; i++)
            {
                using var columnScope = torch.NewDisposeScope();
                var column = i1 + i;
                if (staticGrids.Count > 0)
                {
                    // Static groups (and the single per-channel grid) follow the original column order.
                    var group = (int)(permutation[column] / groupSize);
                    current = staticGrids[group];
                    groupOfPosition[column] = group;
                }
                else
                {
                    if (column % groupSize == 0)
                    {
                        current = quantizer.Fit(GroupWeights(w, w1, err1, u, p, r, original, i1, i, groupSize));
                        grids.Add(current);
                    }
                    groupOfPosition[column] = grids.Count - 1;
                }
                var x = w1.select(1, i).clone();
                var d = u1[i, i].item<float>();
                var q = current!.Quantize(x);
                quantized.select(1, column).copy_(q);
                var diff = x - q;
                loss += diff.square().sum().item<float>() / (d * d) / 2;
                var e = diff / d;
                var rest = w1.narrow(1, i, count - i);
                var update = e.unsqueeze(1).matmul(u1.narrow(0, i, 1).narrow(1, i, count - i));
                if (p1 is not null)
                {
                    update -= x.unsqueeze(1).matmul(p1.narrow(0, i, 1).narrow(1, i, count - i));
                }
                if (r1 is not null)
                {
                    update -= (org1!.select(1, i) - x).unsqueeze(1).matmul(r1.narrow(0, i, 1).narrow(1, i, count - i));
                }
                rest.sub_(update);
                err1.select(1, i).copy_(e);
            }
            if (i2 < columns)
            {
                w.narrow(1, i2, columns - i2).sub_(Pending(w1, err1, u, p, r, original, i1, count, i2, columns - i2));
            }
        }

        var groupIndex = new int[columns];
        var inverse = new long[columns];
        for (var k = 0; k < columns; k++)
        {
            inverse[permutation[k]] = k;
            groupIndex[permutation[k]] = groupOfPosition[k];
        }
        if (settings.ActOrder)
        {
            quantized = quantized.index_select(1, torch.tensor(inverse));
        }
        return new GptqSolution(quantized.MoveToOuterDisposeScope(), groupIndex, grids, loss);
    }

    /// <summary>
    /// The update the processed columns <c>[i1, i1 + done)</c> of the current block still owe columns
    /// <c>[from, from + width)</c> beyond the block: GPTQ's lazy term, minus the GPTAQ / ResComp terms.
    /// </summary>
    private static Tensor Pending(Tensor w1, Tensor err1, Tensor u, Tensor? p, Tensor? r, Tensor? original,
        int i1, int done, int from, int width)
    {
        var pending = err1.narrow(1, 0, done).matmul(u.narrow(0, i1, done).narrow(1, from, width));
        if (p is not null)
        {
            pending -= w1.narrow(1, 0, done).matmul(p.narrow(0, i1, done).narrow(1, from, width));
        }
        if (r is not null)
        {
            pending -= (original!.narrow(1, i1, done) - w1.narrow(1, 0, done)).matmul(r.narrow(0, i1, done).narrow(1, from, width));
        }
        return pending;
    }

    /// <summary>The group starting at block column <paramref name="i"/>, as fully updated at this moment.</summary>
    private static Tensor GroupWeights(Tensor w, Tensor w1, Tensor err1, Tensor u, Tensor? p, Tensor? r, Tensor? original,
        int i1, int i, int groupSize)
    {
        var count = w1.shape[1];
        var inBlock = (int)Math.Min(groupSize, count - i);
        var head = w1.narrow(1, i, inBlock);
        var beyond = groupSize - inBlock;
        if (beyond == 0)
        {
            return head;
        }
        var from = i1 + (int)count;
        var tail = w.narrow(1, from, beyond);
        if (i > 0)
        {
            tail = tail - Pending(w1, err1, u, p, r, original, i1, i, from, beyond);
        }
        return torch.cat([head, tail], 1);
    }

    /// <summary>U = chol_upper(H⁻¹) of the damped H (float32), and the correction matrices in the same column order.</summary>
    private static (Tensor? P, Tensor? R) CorrectionTerms(GptqCorrection? correction, Tensor rawHessian, Tensor dead, Tensor perm,
        bool actOrder, Tensor h, double dampPercent, out Tensor u)
    {
        var damp = dampPercent * h.diagonal().mean().item<double>();
        h.diagonal().add_(damp);
        var lower = torch.linalg.cholesky(h);
        var inverse = torch.cholesky_inverse(lower);
        // chol_upper(A) = chol_lower(A)ᵀ.
        var upper = torch.linalg.cholesky(inverse).t().contiguous();
        u = upper.to(ScalarType.Float32);
        if (correction is null)
        {
            return (null, null);
        }
        var keep = dead.logical_not().to(ScalarType.Float64);
        var mask = keep.unsqueeze(1) * keep.unsqueeze(0);
        var cross = correction.CrossTerm.to(ScalarType.Float64) * mask;
        var rawH = rawHessian.to(ScalarType.Float64) * mask;
        if (actOrder)
        {
            cross = cross.index_select(0, perm).index_select(1, perm);
            rawH = rawH.index_select(0, perm).index_select(1, perm);
        }
        var p = (correction.Alpha * cross.matmul(upper.t()).triu(1).matmul(upper)).to(ScalarType.Float32);
        var r = correction.ResidualAlpha > 0
            ? (correction.ResidualAlpha * (cross + rawH).matmul(upper.t()).triu(1).matmul(upper)).to(ScalarType.Float32)
            : null;
        return (p, r);
    }
}
