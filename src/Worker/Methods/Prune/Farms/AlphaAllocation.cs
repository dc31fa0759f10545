namespace Optimizer.Worker.Methods.Prune.Farms;

/// <summary>One prunable layer with its ESD alpha.</summary>
/// <param name="Name">Weight name.</param>
/// <param name="Block">Transformer block index (layers of one block share a block-wise alpha).</param>
/// <param name="Parameters">Elements of the weight (n_l).</param>
/// <param name="Alpha">ESD alpha (<see cref="Spectral.EsdAlpha"/>); NaN when it could not be estimated.</param>
public sealed record LayerAlpha(string Name, int Block, long Parameters, double Alpha);

/// <summary>
/// AlphaPruning's mapping of per-layer ESD alpha to per-layer sparsity (ALGORITHMS.md 2.5), the allocation FARMS uses:
/// a larger alpha (less heavy-tailed, less trained) gets more pruning, and the parameter-weighted mean sparsity equals
/// the target.
/// </summary>
/// <remarks>
/// <code>
/// score_l = mean alpha of layer l's block ("block_wise", the default) or alpha_l
/// ratio_l = (score_l − min) / (max − min) · 2ε + (1 − ε)
/// s_l     = ratio_l · target · Σ n / Σ n·ratio_l
/// </code>
/// Deliberate additions to the reference: all-equal scores give every layer the target (the reference divides by
/// zero); a layer whose alpha is NaN takes the mean score; sparsities above <c>maxSparsity</c> are clamped and the
/// excess is spread over the other layers by rescaling them, so the weighted mean stays the target and the order in
/// alpha is kept.
/// </remarks>
public static class AlphaAllocation
{
    /// <summary>Per-layer sparsity keyed by layer name.</summary>
    /// <param name="layers">The prunable layers.</param>
    /// <param name="target">Parameter-weighted mean sparsity to reach (0 ≤ target ≤ <paramref name="maxSparsity"/>).</param>
    /// <param name="epsilon">Half-width of the ratio range (AlphaPruning's ε, default 0.3).</param>
    /// <param name="blockWise">Average alpha over each block's layers first (AlphaPruning's default mapping).</param>
    /// <param name="maxSparsity">No layer is pruned beyond this.</param>
    /// <exception cref="ArgumentOutOfRangeException">The target or epsilon is out of range.</exception>
    public static IReadOnlyDictionary<string, double> Sparsities(IReadOnlyList<LayerAlpha> layers, double target, double epsilon,
        bool blockWise = true, double maxSparsity = 0.99)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentOutOfRangeException.ThrowIfNegative(target);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(target, maxSparsity);
        ArgumentOutOfRangeException.ThrowIfNegative(epsilon);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(epsilon, 1.0);
        if (layers.Count == 0)
        {
            return new Dictionary<string, double>();
        }
        var scores = Scores(layers, blockWise);
        var min = scores.Min();
        var max = scores.Max();
        var ratios = scores.Select(s => max > min ? (s - min) / (max - min) * 2 * epsilon + (1 - epsilon) : 1.0).ToArray();
        var sparsities = Rescale(layers, ratios, target, maxSparsity);
        return layers.Select((l, i) => (l.Name, sparsities[i])).ToDictionary(p => p.Name, p => p.Item2, StringComparer.Ordinal);
    }

    /// <summary>The score each layer is ranked by: its alpha, or its block's mean alpha; NaN alphas take the mean.</summary>
    private static double[] Scores(IReadOnlyList<LayerAlpha> layers, bool blockWise)
    {
        var finite = layers.Where(l => double.IsFinite(l.Alpha)).Select(l => l.Alpha).ToList();
        var fallback = finite.Count == 0 ? 1.0 : finite.Average();
        var alphas = layers.Select(l => double.IsFinite(l.Alpha) ? l.Alpha : fallback).ToArray();
        if (!blockWise)
        {
            return alphas;
        }
        var blockMeans = layers.Select((l, i) => (l.Block, Alpha: alphas[i]))
            .GroupBy(p => p.Block)
            .ToDictionary(g => g.Key, g => g.Average(p => p.Alpha));
        return [.. layers.Select(l => blockMeans[l.Block])];
    }

    /// <summary>
    /// Scales the ratios so that Σ n·s = target·Σ n; layers that would exceed the cap are pinned to it and the free
    /// layers rescaled again (at most one pass per layer).
    /// </summary>
    private static double[] Rescale(IReadOnlyList<LayerAlpha> layers, double[] ratios, double target, double maxSparsity)
    {
        var total = layers.Sum(l => (double)l.Parameters);
        var pinned = new bool[layers.Count];
        var sparsities = new double[layers.Count];
        for (var pass = 0; pass <= layers.Count; pass++)
        {
            var pinnedMass = 0.0;
            var freeMass = 0.0;
            for (var i = 0; i < layers.Count; i++)
            {
                if (pinned[i])
                {
                    pinnedMass += layers[i].Parameters * maxSparsity;
                }
                else
                {
                    freeMass += layers[i].Parameters * ratios[i];
                }
            }
            var scale = freeMass > 0 ? (target * total - pinnedMass) / freeMass : 0;
            var changed = false;
            for (var i = 0; i < layers.Count; i++)
            {
                sparsities[i] = pinned[i] ? maxSparsity : ratios[i] * scale;
                if (!pinned[i] && sparsities[i] > maxSparsity)
                {
                    pinned[i] = true;
                    changed = true;
                }
            }
            if (!changed)
            {
                break;
            }
        }
        return sparsities;
    }
}
