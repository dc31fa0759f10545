namespace Optimizer.Api.Contracts.Jobs;

/// <summary>
/// Answer of <c>POST /v1/jobs/estimate</c>: a rough, size-based preflight (see <c>JobEstimator</c>), so a user learns
/// before queueing whether a job is plausible on the target queue.
/// </summary>
public sealed record JobEstimate(long PeakMemoryBytes, long DiskBytes, long EstimatedSeconds, string Queue);
