using System.Globalization;

namespace Optimizer.Worker.Evaluation.Latency;

/// <summary>
/// The latency question of the standard bank (ALGORITHMS.md Part B, efficiency): asked only when the candidate's linears ran
/// through a low-bit kernel, i.e. when a kernel exists for its format (<see cref="DecodeLatency"/>).
/// </summary>
public static class LatencyRubric
{
    /// <summary>Speedup over the fp32 baseline per decode token required: at least as fast.</summary>
    public const double MinSpeedup = 1.0;

    public static IReadOnlyList<RubricQuestion> Questions { get; } =
    [
        new()
        {
            Id = "efficiency.faster_than_baseline",
            Category = "efficiency",
            Weight = 0.5,
            IsRelevant = c => c.Metrics.Latency is { KernelLinears: > 0 },
            Question = (_, _) => $"Is the quantized model, through the low-bit kernels, at least {MinSpeedup.ToString("0.0#", CultureInfo.InvariantCulture)}× " +
                "as fast as the baseline per token (batch-1 decode step) on this worker's CPU?",
            Check = (c, _) =>
            {
                var latency = c.Metrics.Latency!;
                return new RubricAnswer(latency.Speedup >= MinSpeedup, new Dictionary<string, object?>
                {
                    ["latency_ms_per_token"] = latency.MsPerToken,
                    ["baseline_latency_ms_per_token"] = latency.BaselineMsPerToken,
                    ["speedup"] = latency.Speedup,
                    ["threshold"] = MinSpeedup,
                    ["kernels"] = latency.Kernels,
                    ["kernel_linears"] = latency.KernelLinears,
                });
            },
        },
    ];
}
