using System.Globalization;
using System.Text.RegularExpressions;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Spectral;

namespace Optimizer.Worker.Methods.Prune.Farms;

/// <summary>
/// <c>allocation: farms</c> (ALGORITHMS.md 2.5): FARMS alpha of every target weight of the dense source, mapped to
/// per-layer sparsities by <see cref="AlphaAllocation"/>. Reads one weight at a time.
/// </summary>
public static partial class FarmsAllocator
{
    /// <summary>The plan with <see cref="PrunePlan.LayerSparsity"/> and <see cref="PrunePlan.LayerAlpha"/> filled in.</summary>
    public static PrunePlan Allocate(ModelFolder folder, PrunePlan plan, double target, double epsilon, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(plan);
        var names = plan.Targets.Order(StringComparer.Ordinal).ToList();
        var fits = EsdAlpha.ForWeights(folder, names, cancellationToken: cancellationToken);
        var layers = names.Select(n => new LayerAlpha(n, BlockOf(n), folder.GetEntry(n).ElementCount, fits[n].Alpha)).ToList();
        var sparsities = AlphaAllocation.Sparsities(layers, target, epsilon);
        return plan with
        {
            LayerSparsity = sparsities,
            LayerAlpha = fits.ToDictionary(p => p.Key, p => p.Value.Alpha, StringComparer.Ordinal),
        };
    }

    /// <summary>The transformer block index in a name like <c>model.layers.12.mlp.up_proj.weight</c> (0 when absent).</summary>
    public static int BlockOf(string weightName)
    {
        var match = LayerIndex().Match(weightName);
        return match.Success ? int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : 0;
    }

    [GeneratedRegex(@"\.layers\.(\d+)\.")]
    private static partial Regex LayerIndex();
}
