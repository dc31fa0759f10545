using System.Globalization;
using Optimizer.Domain.Reports;

namespace Optimizer.Worker.Evaluation.Diagnostics;

/// <summary>
/// The drill-down under a failed perplexity item (ALGORITHMS.md Part B, point 3): one question per transformer block
/// on its relative output error, and under each block that fails, one question per module type — so the report
/// points at the layers and module types that explain the perplexity gap, and passing parts are not expanded.
/// </summary>
/// <remarks>Children are reported, not scored (the engine scores top-level items only).</remarks>
public static class PerplexityDrillDown
{
    /// <summary>Relative error of a block's residual update above which the block is named.</summary>
    public const double BlockErrorThreshold = 0.05;

    /// <summary>Relative output error of one linear above which its module type is named.</summary>
    public const double ModuleErrorThreshold = 0.05;

    /// <summary>The block items; empty when the errors were not measured.</summary>
    public static IReadOnlyList<ReportItem> Children(RubricContext context, RubricThresholds thresholds)
    {
        if (context.Metrics.BlockOutputErrors is not { } errors)
        {
            return [];
        }
        var modules = context.Metrics.ModuleOutputErrors;
        return [.. errors.Select((error, block) =>
        {
            var yes = error <= BlockErrorThreshold;
            var children = !yes && modules is not null && block < modules.Count ? ModuleItems(block, modules[block]) : [];
            return Item($"diagnostics.block_output_error.{block}",
                $"Is block {block}'s relative output error against the baseline at most {Percent(BlockErrorThreshold)}?",
                yes, error, BlockErrorThreshold, children);
        })];
    }

    private static IReadOnlyList<ReportItem> ModuleItems(int block, IReadOnlyDictionary<string, double> modules) =>
    [
        .. modules.Select(m => Item($"diagnostics.module_output_error.{block}.{m.Key}",
            $"Is block {block}'s {m.Key} relative output error against the baseline at most {Percent(ModuleErrorThreshold)}?",
            m.Value <= ModuleErrorThreshold, m.Value, ModuleErrorThreshold, [])),
    ];

    private static ReportItem Item(string id, string question, bool yes, double error, double threshold, IReadOnlyList<ReportItem> children) =>
        new(id, question, "diagnostics", yes,
            new Dictionary<string, object?> { ["relative_error"] = double.IsFinite(error) ? error : null, ["threshold"] = threshold },
            0, false, children);

    private static string Percent(double fraction) =>
        (fraction * 100).ToString("0.##", CultureInfo.InvariantCulture) + " %";
}
