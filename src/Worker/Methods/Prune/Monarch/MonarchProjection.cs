using Optimizer.Worker.Modeling.Architectures.Monarch;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune.Monarch;

/// <summary>
/// Closed-form projection of a dense <c>M [out, in]</c> onto the Monarch matrices of <see cref="MonarchLinear"/>
/// (ALGORITHMS.md 2.6, fly's <c>blockdiag_butterfly_project</c>): each slice <c>A_{k,r}[p, s] = M[p·K + k, r·b + s]</c>
/// must be rank 1, and the slices are independent, so the best approximation in Frobenius norm takes each slice's top
/// singular triplet (σ, u, v): <c>L_k[:, r] = √σ·u</c>, <c>R_r[k, :] = √σ·v</c>. One batched SVD of the K·nb slices.
/// </summary>
/// <remarks>Generalised from the paper's square n = m1·m2 to rectangular <c>[P·K, nb·b]</c> with nb = K blocks.</remarks>
public static class MonarchProjection
{
    /// <summary>The two factors (<c>blkdiag1 [nb, K, b]</c>, <c>blkdiag2 [K, P, nb]</c>) in float32.</summary>
    /// <exception cref="ArgumentException">A size is not a multiple of <paramref name="blocks"/>.</exception>
    public static (Tensor Blkdiag1, Tensor Blkdiag2) Project(Tensor dense, int blocks)
    {
        ArgumentNullException.ThrowIfNull(dense);
        var rows = dense.shape[0];
        var columns = dense.shape[1];
        if (blocks < 1 || rows % blocks != 0 || columns % blocks != 0)
        {
            throw new ArgumentException($"[{rows}, {columns}] is not divisible into {blocks} blocks both ways.", nameof(dense));
        }
        using var scope = torch.NewDisposeScope();
        var blockOut = rows / blocks;
        var blockIn = columns / blocks;
        // [p, k, r, s] → [k, r, p, s]: one P×b slice per (k, r).
        var slices = dense.to(ScalarType.Float64).reshape(blockOut, blocks, blocks, blockIn).permute(1, 2, 0, 3);
        var (u, s, vh) = torch.linalg.svd(slices, fullMatrices: false);
        var root = s.select(-1, 0).sqrt();                                   // [K, nb]
        var left = u.select(-1, 0) * root.unsqueeze(-1);                     // [K, nb, P]
        var right = vh.select(-2, 0) * root.unsqueeze(-1);                   // [K, nb, b]
        var blkdiag1 = right.permute(1, 0, 2).contiguous().to(ScalarType.Float32);   // [nb, K, b]
        var blkdiag2 = left.permute(0, 2, 1).contiguous().to(ScalarType.Float32);    // [K, P, nb]
        return (blkdiag1.MoveToOuterDisposeScope(), blkdiag2.MoveToOuterDisposeScope());
    }

    /// <summary>The dense <c>[out, in]</c> matrix of given factors: the product applied to the identity, transposed.</summary>
    public static Tensor Dense(Tensor blkdiag1, Tensor blkdiag2)
    {
        ArgumentNullException.ThrowIfNull(blkdiag1);
        using var scope = torch.NewDisposeScope();
        var columns = blkdiag1.shape[0] * blkdiag1.shape[2];
        var identity = torch.eye(columns, dtype: blkdiag1.dtype);
        return MonarchLinear.Multiply(identity, blkdiag1, blkdiag2).mT.contiguous().MoveToOuterDisposeScope();
    }
}
