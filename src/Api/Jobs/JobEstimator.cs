using Optimizer.Api.Contracts.Jobs;

namespace Optimizer.Api.Jobs;

/// <summary>
/// A deliberately simple estimate from the input models' sizes and parameter counts. It is an upper-bound style
/// guess, not a measurement: the worker holds the float32 source, the output and working buffers at once.
/// </summary>
public static class JobEstimator
{
    /// <summary>Assumed CPU throughput for per-weight work (weights per second), conservative for a 2-core host.</summary>
    private const double WeightsPerSecond = 20_000_000;

    public static JobEstimate Estimate(string type, string queue, IReadOnlyList<(long SizeBytes, long Parameters)> models)
    {
        var parameters = models.Sum(m => m.Parameters);
        var size = models.Sum(m => m.SizeBytes);
        var float32 = parameters * 4;
        var (memoryFactor, passes) = type switch
        {
            "finetune" => (4.0, 50.0),   // weights, gradients, two optimizer moments; many passes
            "evaluate" => (1.5, 4.0),    // one model plus activations, forward passes over the dataset
            "merge" => (1.5, 1.0),       // inputs streamed tensor by tensor, the output held once
            _ => (2.5, 2.0),             // source, output and calibration buffers
        };
        var peak = (long)(Math.Max(float32, size) * memoryFactor);
        var disk = size + float32;
        var seconds = (long)Math.Ceiling(5 + parameters * passes / WeightsPerSecond);
        return new JobEstimate(peak, disk, seconds, queue);
    }
}
