using Hangfire;
using Hangfire.States;
using Optimizer.Domain.Jobs;

namespace Optimizer.Worker.Execution;

/// <summary>The worker's side of the queue: putting a job back (recovery, hand-back) and asking whether it is still queued there.</summary>
public interface IJobQueue
{
    /// <summary>Enqueues <see cref="IJobExecutor.RunAsync"/> for <paramref name="jobId"/> on <paramref name="queue"/>; returns the queue's id.</summary>
    string Enqueue(string jobId, string queue);

    /// <summary>True while the queue entry can still run the job (enqueued, scheduled, awaiting or processing).</summary>
    bool IsPending(string? queueJobId);
}

/// <summary>Hangfire as the queue (the same call the Api's <c>JobSubmitter</c> makes).</summary>
public sealed class HangfireJobQueue(IBackgroundJobClient client, JobStorage storage) : IJobQueue
{
    private static readonly string[] PendingStates = [EnqueuedState.StateName, ScheduledState.StateName, AwaitingState.StateName, ProcessingState.StateName];

    public string Enqueue(string jobId, string queue) =>
        client.Create<IJobExecutor>(x => x.RunAsync(jobId, CancellationToken.None), new EnqueuedState(queue));

    public bool IsPending(string? queueJobId)
    {
        if (queueJobId is null)
        {
            return false;
        }
        using var connection = storage.GetConnection();
        var state = connection.GetJobData(queueJobId)?.State;
        return state is not null && PendingStates.Contains(state, StringComparer.OrdinalIgnoreCase);
    }
}
