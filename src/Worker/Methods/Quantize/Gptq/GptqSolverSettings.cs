using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Gptq;

/// <summary>The knobs of <see cref="GptqSolver"/> (ALGORITHMS.md 1.2 defaults).</summary>
/// <param name="GroupSize">Columns per grid; -1 = one grid per row over all columns.</param>
/// <param name="BlockSize">Columns per lazy batch update.</param>
/// <param name="ActOrder">Process columns by decreasing Hessian diagonal.</param>
/// <param name="StaticGroups">Fit every group's grid on the original weights, in original column order, before the loop.</param>
/// <param name="DampPercent">Dampening as a fraction of the mean Hessian diagonal.</param>
public sealed record GptqSolverSettings(
    int GroupSize = -1,
    int BlockSize = 128,
    bool ActOrder = false,
    bool StaticGroups = false,
    double DampPercent = 0.01);

/// <summary>
/// The GPTAQ / ResComp terms (ALGORITHMS.md 1.3, 1.4): <c>P = α·triu(dXXT·Uᵀ, 1)·U</c> pulls the quantized layer towards the
/// full-precision model's output; ResComp adds <c>R = α₂·triu((dXXT + H)·Uᵀ, 1)·U</c> applied to <c>W_org − W</c>.
/// </summary>
/// <param name="CrossTerm"><c>dXXT = (2/N)(X_fp − X_q)ᵀ X_q</c> over tokens (<c>[in, in]</c>, see <see cref="Calibration.HessianAccumulator"/>).</param>
/// <param name="Alpha">Weight of P (0.25).</param>
/// <param name="ResidualAlpha">Weight of R (0.25 in ResComp; 0 = plain GPTAQ).</param>
public sealed record GptqCorrection(Tensor CrossTerm, double Alpha = 0.25, double ResidualAlpha = 0);

/// <summary>What <see cref="GptqSolver.Solve"/> returns; dispose it to free the grids and the quantized weight.</summary>
/// <param name="Quantized">The dequantized weight <c>[out, in]</c> float32, original column order.</param>
/// <param name="GroupIndex">The grid of each input column (original order), <c>g_idx</c>; indexes <paramref name="Grids"/>.</param>
/// <param name="Grids">The fitted grids in creation order.</param>
/// <param name="Loss">GPTQ's <c>Σ (w − q)² / d² / 2</c>.</param>
public sealed record GptqSolution(Tensor Quantized, int[] GroupIndex, IReadOnlyList<IColumnGrid> Grids, double Loss) : IDisposable
{
    public void Dispose()
    {
        Quantized.Dispose();
        foreach (var grid in Grids)
        {
            grid.Dispose();
        }
    }
}
