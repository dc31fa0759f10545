using Optimizer.Domain.Methods.Merge.Mwa;

namespace Optimizer.Worker.Methods.Merge.Mwa;

/// <summary>
/// Metrics-weighted averaging weights (ALGORITHMS.md 3.6, arXiv 2504.18580 Sec. 3) [interp: the functional form is the
/// digest's reconstruction]: loss <c>w_i = L_i^(−p) / Σ_j L_j^(−p)</c>, step <c>w_i = t_i^p / Σ_j t_j^p</c>.
/// </summary>
public static class MwaWeights
{
    /// <summary>Weights that sum to 1, aligned with <paramref name="checkpoints"/>; equal metrics (or p = 0) give uniform weights.</summary>
    /// <exception cref="ArgumentException">A metric the form cannot take (loss ≤ 0, step ≤ 0).</exception>
    public static double[] Compute(IReadOnlyList<MwaCheckpoint> checkpoints, string metric, double penalty)
    {
        if (checkpoints.Count == 0)
        {
            throw new ArgumentException("No checkpoints.");
        }
        // In log space with the maximum subtracted: L^-p overflows for large p otherwise.
        var logs = checkpoints.Select(c => metric == MwaOptions.StepMetric
            ? penalty * Math.Log(Positive(c.Step, "step"))
            : -penalty * Math.Log(Positive(c.Loss ?? 0, "loss"))).ToArray();
        var max = logs.Max();
        var raw = logs.Select(l => Math.Exp(l - max)).ToArray();
        var sum = raw.Sum();
        return [.. raw.Select(r => r / sum)];
    }

    private static double Positive(double value, string name) =>
        value > 0 && double.IsFinite(value) ? value : throw new ArgumentException($"Every checkpoint needs a positive {name}.");
}
