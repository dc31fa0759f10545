using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.D2Quant;

/// <summary>
/// D²Quant's dual-scale quantizer for <c>down_proj</c> (ALGORITHMS.md 1.9 DSQ): a per-input-channel scale <c>c</c> that
/// costs no bits because it folds into <c>up_proj</c>: <c>silu(g)·(c ⊙ u)</c> = <c>c ⊙ (silu(g)·u)</c>, so
/// <c>W_down·diag(c)⁻¹</c> applied to that input computes exactly what <c>W_down</c> did.
/// </summary>
public static class DualScale
{
    /// <summary>
    /// The scale minimising the output error <c>tr(ΔW·H·ΔWᵀ)</c> of <c>ΔW = Q(W·diag(c)⁻¹)·diag(c) − W</c> over
    /// <c>c = s^(k/grid)</c>, k = 0 … grid−1 (k = 0 is plain rounding), where <c>s = sqrt(diag H)</c> is each input
    /// channel's RMS; normalised to <c>sqrt(max·min) = 1</c> as AWQ does. Returns float32 <c>[in]</c>.
    /// </summary>
    /// <param name="weight"><c>W_down</c> <c>[out, in]</c>.</param>
    /// <param name="hessian">Its input Hessian <c>[in, in]</c> (any positive multiple of XᵀX).</param>
    /// <param name="quantize">Fake-quantizes a <c>[out, in]</c> weight on the grid that will store it.</param>
    /// <param name="grid">Exponents tried.</param>
    public static Tensor Search(Tensor weight, Tensor hessian, Func<Tensor, Tensor> quantize, int grid)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(grid);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var w = weight.detach().to(ScalarType.Float32);
        var h = hessian.to(ScalarType.Float32);
        var rms = h.diagonal().clamp_min(0).sqrt().clamp_min(1e-8);
        Tensor best = torch.ones_like(rms);
        var bestError = double.PositiveInfinity;
        for (var k = 0; k < grid; k++)
        {
            using var step = torch.NewDisposeScope();
            var c = rms.pow((double)k / grid);
            c = c / (c.max() * c.min()).sqrt();
            var delta = quantize(w / c) * c - w;
            var error = (delta.matmul(h) * delta).sum().item<float>();
            if (error < bestError)
            {
                bestError = error;
                best = c.MoveToOuterDisposeScope();
            }
        }
        return best.MoveToOuterDisposeScope();
    }

    /// <summary>Folds <paramref name="scale"/> in place: rows of <paramref name="up"/> times c, columns of <paramref name="down"/> divided by c.</summary>
    public static void Fold(Linear up, Linear down, Tensor scale)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var c = scale.to(up.weight!.dtype).to(up.weight!.device);
        up.weight!.mul_(c.unsqueeze(1));
        down.weight!.div_(c.unsqueeze(0));
    }
}
