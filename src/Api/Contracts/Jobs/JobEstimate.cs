namespace Optimizer.Api.Contracts.Jobs;

/// <summary>
/// Answer of <c>POST /v1/jobs/estimate</c>: a rough, size-based preflight (see <c>JobEstimator</c>), so a user learns
/// before queueing whether a job is plausible on the target queue. <c>POST /v1/jobs</c> refuses a job that does not fit.
/// </summary>
/// <param name="PeakMemoryBytes">Estimated peak resident memory of the worker running the job.</param>
/// <param name="DiskBytes">Estimated scratch and checkpoint disk.</param>
/// <param name="EstimatedSeconds">Estimated run time on a small CPU worker.</param>
/// <param name="Queue">The queue the job would go to.</param>
/// <param name="WorkerMemoryBytes">The memory a worker has (<c>Optimizer:WorkerMemoryBytes</c>).</param>
/// <param name="Fits">False when the peak exceeds the worker's memory: such a job is refused with 422.</param>
public sealed record JobEstimate(long PeakMemoryBytes, long DiskBytes, long EstimatedSeconds, string Queue, long WorkerMemoryBytes, bool Fits);
