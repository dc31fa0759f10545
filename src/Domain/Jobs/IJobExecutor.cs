namespace Optimizer.Domain.Jobs;

/// <summary>
/// What the Api enqueues through Hangfire: only the job id travels, all state is in our tables.
/// The Worker registers the implementation; the Api never references it.
/// </summary>
public interface IJobExecutor
{
    Task RunAsync(string jobId, CancellationToken cancellationToken);
}
