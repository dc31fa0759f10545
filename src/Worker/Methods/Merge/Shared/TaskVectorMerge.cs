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
    public static Tensor Mix(IReadOnlyList<Tensor> deltas, IReadOnlyList<double> weights, bool signConsensus, bool normalize)
    {
        using var scope = torch.NewDisposeScope();
        var stacked = torch.stack(deltas, 0);
        var shape = new long[stacked.dim()];
        Array.Fill(shape, 1L);
        shape[0] = deltas.Count;
        var w = torch.tensor(weights.Select(x => (float)x).ToArray(), dtype: stacked.dtype).reshape(shape);
        var weighted = stacked * w;
        Tensor mixed;
        Tensor divisor;
        if (signConsensus)
        {
            var majority = torch.where(weighted.sum(0L) >= 0, 1f, -1f).to_type(stacked.dtype);
            var mask = weighted.sign().eq(majority.unsqueeze(0)).to_type(stacked.dtype);
            mixed = (weighted * mask).sum(0L);
            divisor = (w * mask).sum(0L);
            divisor.masked_fill_(divisor.eq(0), 1);
        }
        else
        {
            mixed = weighted.sum(0L);
            var total = weights.Sum();
            divisor = torch.tensor(Math.Abs(total) < 1e-8 ? 1f : (float)total, dtype: stacked.dtype);
        }
        if (normalize)
        {
            mixed = mixed / divisor;
        }
        return mixed.MoveToOuterDisposeScope();
    }
}
