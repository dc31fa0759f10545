namespace Optimizer.Worker.Evaluation.Latency;

/// <summary>
/// Decode latency of the candidate through the low-bit kernels beside the fp32 baseline, on this worker's CPU
/// (<see cref="DecodeLatency"/>).
/// </summary>
/// <param name="MsPerToken">Candidate, kernel path: milliseconds of one batch-1 decode step (fastest of the repetitions).</param>
/// <param name="BaselineMsPerToken">Baseline, dense fp32: the same.</param>
/// <param name="KernelLinears">Decoder projections that ran through a kernel.</param>
/// <param name="Kernels">The distinct kernel formats that ran (e.g. <c>int4 g128</c>).</param>
/// <param name="Repetitions">Timed steps per model (after the warm-up).</param>
public sealed record LatencyMeasurement(double MsPerToken, double BaselineMsPerToken, int KernelLinears, IReadOnlyList<string> Kernels,
    int Repetitions)
{
    /// <summary>Baseline time over candidate time: above 1 when the quantized model is faster.</summary>
    public double Speedup => MsPerToken > 0 ? BaselineMsPerToken / MsPerToken : 0;
}
