using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune.SparseGpt;

/// <summary>
/// SparseGPT's <c>fasterprune</c> (ALGORITHMS.md 2.3, 0.1) for one linear: with <c>U = chol_upper(H⁻¹)</c>, walk the
/// columns in blocks; prune, and spread each pruned column's error over the later columns through the rows of U
/// (rank-1 inside the block, one batched update after it).
/// </summary>
/// <remarks>
/// Masks: unstructured takes exactly ⌊count·sparsity⌋ of the lowest <c>w² / U_jj²</c> jointly over each block
/// (<see cref="PruneMask.PerTensor"/>, where the reference prunes every score ≤ the threshold, ties included); N:M
/// chooses, at each group of M columns, the M − N lowest scores of each row among the already-updated weights. The
/// block size is rounded down to a multiple of M so that no group straddles two blocks.
/// </remarks>
public static class SparseGptSolver
{
    /// <summary>Prunes <paramref name="weight"/> in place.</summary>
    /// <param name="weight">[out, in], any float dtype (the loop runs in float32).</param>
    /// <param name="hessian">[in, in] = (2/N)·X Xᵀ of the layer's calibration inputs; not modified.</param>
    /// <param name="spec">Pattern and this layer's sparsity.</param>
    /// <param name="blockSize">Columns per block (128).</param>
    /// <param name="damp">Fraction of the mean diagonal added to it (0.01).</param>
    public static void Prune(Tensor weight, Tensor hessian, PruneSpec spec, int blockSize = 128, double damp = 0.01)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(hessian);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var columns = weight.shape[1];
        if (hessian.shape.Length != 2 || hessian.shape[0] != columns || hessian.shape[1] != columns)
        {
            throw new ArgumentException($"Hessian [{string.Join(", ", hessian.shape)}] does not match {columns} input columns.", nameof(hessian));
        }
        if (spec.IsNOfM)
        {
            blockSize = Math.Max(spec.M, blockSize / spec.M * spec.M);
        }
        var w = weight.to(ScalarType.Float32).clone();
        var u = InverseFactor(hessian, w, damp);
        for (long start = 0; start < columns; start += blockSize)
        {
            var count = Math.Min(blockSize, columns - start);
            var block = w.narrow(1, start, count).clone();
            var pruned = torch.zeros_like(block);
            var errors = torch.zeros_like(block);
            var uBlock = u.narrow(0, start, count).narrow(1, start, count);
            var diagonal = uBlock.diagonal().unsqueeze(0);
            var mask = spec.IsNOfM
                ? torch.zeros_like(block, ScalarType.Bool)
                : PruneMask.PerTensor(block.square() / diagonal.square(), spec.Sparsity);
            for (long i = 0; i < count; i++)
            {
                using var step = torch.NewDisposeScope();
                if (spec.IsNOfM && i % spec.M == 0)
                {
                    var group = block.narrow(1, i, spec.M).square() / diagonal.narrow(1, i, spec.M).square();
                    mask.narrow(1, i, spec.M).copy_(PruneMask.NOfM(group, spec.N, spec.M));
                }
                var column = block[.., i];
                var kept = column.masked_fill(mask[.., i], 0);
                var error = (column - kept) / uBlock[i, i];
                block.narrow(1, i, count - i).sub_(error.unsqueeze(1).matmul(uBlock[i].narrow(0, i, count - i).unsqueeze(0)));
                pruned[.., i] = kept;
                errors[.., i] = error;
            }
            w.narrow(1, start, count).copy_(pruned);
            if (start + count < columns)
            {
                w.narrow(1, start + count, columns - start - count)
                    .sub_(errors.matmul(u.narrow(0, start, count).narrow(1, start + count, columns - start - count)));
            }
        }
        weight.copy_(w.to(weight.dtype));
    }

    /// <summary>
    /// <c>U = chol_upper(H⁻¹)</c> after the dead-column fix (H_jj = 0 → H_jj = 1 and W[:, j] = 0, in <paramref name="w"/>)
    /// and dampening, in float64 (ALGORITHMS.md 0.1: never in low precision); returned in float32 for the updates.
    /// </summary>
    public static Tensor InverseFactor(Tensor hessian, Tensor w, double damp)
    {
        using var scope = torch.NewDisposeScope();
        var h = hessian.to(ScalarType.Float64).clone();
        var dead = h.diagonal().eq(0);
        if (dead.any().item<bool>())
        {
            h.diagonal().masked_fill_(dead, 1);
            w.masked_fill_(dead.unsqueeze(0), 0);
        }
        h.diagonal().add_(damp * h.diagonal().mean().item<double>());
        var lower = torch.linalg.cholesky(h);
        var inverse = torch.cholesky_inverse(lower);
        // chol_upper(A) = Lᵀ for A = L Lᵀ.
        return torch.linalg.cholesky(inverse).mT.contiguous().to(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
