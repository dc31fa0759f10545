using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Merge.Shared;

/// <summary>How task-vector entries are dropped before mixing.</summary>
public enum Sparsification
{
    None,
    /// <summary>TIES trim: keep the top-density magnitudes.</summary>
    Magnitude,
    /// <summary>DARE: seeded Bernoulli drops with rescale.</summary>
    Random,
}

/// <summary>The settings of one member of the task-vector family (mergekit's <c>GeneralizedTaskArithmeticMerge</c>).</summary>
/// <param name="Sparsification">How each task vector is sparsified.</param>
/// <param name="SignConsensus">TIES sign election by weighted sum (mergekit <c>consensus_method: sum</c>).</param>
/// <param name="Density">Kept fraction (magnitude) or keep probability (random).</param>
/// <param name="Rescale">DARE rescale of the kept entries.</param>
/// <param name="Seed">DARE mask seed.</param>
/// <param name="Normalize">Divide by the (elected) weight sum.</param>
/// <param name="Lambda">Global multiplier of the mixed task vector.</param>
public sealed record TaskVectorSettings(
    Sparsification Sparsification, bool SignConsensus, double Density, DareRescale Rescale, long Seed, bool Normalize, double Lambda);

/// <summary>
/// Task arithmetic, TIES and DARE on one tensor, with mergekit's semantics: <c>τ_i = x_i − base</c>; sparsify each;
/// weight them (<c>w_i τ_i</c>); with sign consensus keep, per coordinate, the weighted entries whose sign equals
/// <c>sign(Σ_i w_i τ_i)</c> (a zero sum counts as +, and a zero entry never matches); sum; divide by the weight sum of the
/// kept entries (0 → 1) when normalising; multiply by λ; add to the base.
/// </summary>
public static class TaskVectorMerge
{
    public static Tensor Combine(MergeTensors tensors, TaskVectorSettings settings)
    {
        var inputs = tensors.All;
        var baseTensor = tensors.BaseTensor;
        using var scope = torch.NewDisposeScope();
        var deltas = new List<Tensor>(inputs.Count);
        for (var i = 0; i < inputs.Count; i++)
        {
            var delta = inputs[i] - baseTensor;
            deltas.Add(settings.Sparsification switch
            {
                Sparsification.Magnitude => Sparsify.Magnitude(delta, settings.Density),
                Sparsification.Random => Sparsify.Bernoulli(delta, settings.Density, settings.Rescale, MaskSeeds.For(settings.Seed, tensors.Name, i)),
                _ => delta,
            });
        }
        var mixed = Mix(deltas, tensors.Weights, settings.SignConsensus, settings.Normalize);
        if (settings.Lambda != 1)
        {
            mixed.mul_(settings.Lambda);
        }
        return (baseTensor + mixed).MoveToOuterDisposeScope();
    }

    /// <summary>The mixed task vector <c>τ</c> (before λ): weighted, optionally sign-elected and normalised.</summary>
    /// <remarks>
    /// Accumulates model by model instead of stacking (mergekit stacks): the working set stays at the deltas plus a few
    /// tensor-sized buffers, which is what the preflight estimate assumes.
    /// </remarks>
    public static Tensor Mix(IReadOnlyList<Tensor> deltas, IReadOnlyList<double> weights, bool signConsensus, bool normalize)
    {
        using var scope = torch.NewDisposeScope();
        var mixed = torch.zeros_like(deltas[0]);
        if (!signConsensus)
        {
            for (var i = 0; i < deltas.Count; i++)
            {
                mixed.add_(deltas[i], alpha: weights[i]);
            }
            var total = weights.Sum();
            if (normalize && Math.Abs(total) >= 1e-8)
            {
                mixed.div_(total);
            }
            return mixed.MoveToOuterDisposeScope();
        }
        // Elect: the sign of the weighted sum, with 0 counted as + (mergekit's `>= 0`).
        for (var i = 0; i < deltas.Count; i++)
        {
            mixed.add_(deltas[i], alpha: weights[i]);
        }
        var majority = torch.where(mixed.ge(0), 1f, -1f).to_type(mixed.dtype);
        mixed.zero_();
        var divisor = torch.zeros_like(mixed);
        for (var i = 0; i < deltas.Count; i++)
        {
            using var weighted = deltas[i] * weights[i];
            // A zero entry has sign 0 and never matches the elected sign.
            using var agrees = weighted.sign().eq(majority);
            mixed.add_(weighted.where(agrees, 0f));
            divisor.add_(agrees.to_type(mixed.dtype), alpha: weights[i]);
        }
        if (normalize)
        {
            divisor.masked_fill_(divisor.eq(0), 1);
            mixed.div_(divisor);
        }
        return mixed.MoveToOuterDisposeScope();
    }
}
