using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.FineTune.Shared;

/// <summary>AdamP's projection (ALGORITHMS.md 4.4, clovaai/AdamP <c>_projection</c>).</summary>
public static class AdamPProjection
{
    /// <summary>
    /// For the channel view (<c>p.view(out, -1)</c>) then the layer view (<c>p.view(1, -1)</c>): when every row's
    /// |cos(grad, p)| is below <c>delta/√row_length</c> the weight is taken as scale-invariant, the radial component
    /// <c>p_n·⟨p_n, perturb⟩</c> is removed from <paramref name="perturb"/> row by row, and the weight decay ratio becomes
    /// <paramref name="wdRatio"/>. Otherwise the update is returned unchanged with ratio 1.
    /// </summary>
    /// <returns>The (possibly projected) update, a new tensor, and the weight-decay ratio to use.</returns>
    public static (Tensor Perturb, double WdRatio) Project(Tensor p, Tensor grad, Tensor perturb, double delta, double wdRatio, double eps)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(perturb);
        foreach (var rows in new[] { p.shape[0], 1L })
        {
            var pView = p.reshape(rows, -1);
            var cosine = nn.functional.cosine_similarity(grad.reshape(rows, -1), pView, dim: 1, eps: eps).abs();
            if (cosine.max().item<float>() < delta / Math.Sqrt(pView.shape[1]))
            {
                var norms = pView.norm(1).add(eps).reshape(rows, 1);
                var pn = pView / norms;
                var perturbView = perturb.reshape(rows, -1);
                var radial = (pn * perturbView).sum(1, keepdim: true);
                return ((perturbView - pn * radial).reshape(p.shape), wdRatio);
            }
        }
        return (perturb, 1.0);
    }
}
