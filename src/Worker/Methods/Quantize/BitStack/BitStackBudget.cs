using Optimizer.Domain.Formats.BitStack;
using Optimizer.Domain.Jobs;
using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Methods.Quantize.BitStack;

/// <summary>The memory-budget checks of evaluating a BitStack model truncated to <c>budget_mb</c>.</summary>
public static class BitStackBudget
{
    /// <summary>The manifest's selection for <paramref name="budgetMb"/>; fails the job as invalid_params when it cannot apply.</summary>
    /// <exception cref="JobFailedException">The model is not BitStack, or the budget is below its one-block-per-linear minimum.</exception>
    public static BitStackSelection Select(string modelDir, double budgetMb)
    {
        var path = Path.Combine(modelDir, BitStackManifest.FileName);
        if (!File.Exists(path))
        {
            throw new JobFailedException(JobErrorCodes.InvalidParams, "budget_mb applies to BitStack models only.");
        }
        var manifest = BitStackManifest.Parse(File.ReadAllText(path));
        return manifest.Select(budgetMb) ?? throw new JobFailedException(JobErrorCodes.InvalidParams,
            $"A budget of {budgetMb} MB is below this model's minimum of {manifest.MinimumBytes / BitStackManifest.BytesPerMb:0.###} MB.");
    }

    /// <summary>The truncated size in bytes, or null when no budget is asked for.</summary>
    public static long? SizeBytes(string modelDir, double? budgetMb) =>
        budgetMb is { } budget ? Select(modelDir, budget).SizeBytes : null;
}
