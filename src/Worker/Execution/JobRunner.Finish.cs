using Microsoft.EntityFrameworkCore;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Worker.Execution;

/// <summary>How an attempt ends: the fenced final save (with the webhook outbox) and the hand-back on shutdown.</summary>
public sealed partial class JobRunner
{
    /// <summary>
    /// Applies the final transition and saves it (with any model and report, and the webhook deliveries of the terminal
    /// events: an outbox) only if this attempt still holds the lease: the fencing update locks the row until commit, so
    /// the recovery sweep cannot re-queue the job in between. The deliveries are queued after the commit; a crash right
    /// after it leaves them pending, and the Worker's webhook sweep sends them.
    /// </summary>
    /// <returns>False when another attempt owns the job now, or the save failed (then the job is recovered later).</returns>
    private async Task<bool> FinishAsync(OptimizerDbContext db, Finisher finish, Job job, Action<Job> transition)
    {
        try
        {
            IReadOnlyList<string> deliveries = [];
            await using (var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None))
            {
                var owned = await finish.Watch.Owned(db).ExecuteUpdateAsync(s => s.SetProperty(j => j.WorkerId, (string?)null), CancellationToken.None);
                if (owned == 0)
                {
                    LogLeaseLost(job.Id, job.Attempts);
                    return false;
                }
                transition(job);
                await db.SaveChangesAsync(CancellationToken.None);
                if (finish.Events is not null)
                {
                    deliveries = await finish.Events.AddDeliveriesAsync(db, job.Id, CancellationToken.None);
                }
                await transaction.CommitAsync(CancellationToken.None);
            }
            finish.Events?.Queue(deliveries);
            return true;
        }
        catch (Exception ex)
        {
            LogFinishFailed(ex, job.Id);
            return false;
        }
    }

    /// <summary>Puts a running job back to <c>queued</c> (attempts unchanged) and enqueues it again; a cancelling one ends cancelled.</summary>
    private async Task HandBackAsync(OptimizerDbContext db, Finisher finish, Job job, IProgressReporter progress)
    {
        try
        {
            var now = DateTimeOffset.UtcNow;
            var requeued = await finish.Watch.Owned(db).Where(j => j.Status == JobStatus.Running).ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, JobStatus.Queued)
                .SetProperty(j => j.WorkerId, (string?)null)
                .SetProperty(j => j.HeartbeatAt, now), CancellationToken.None);
            if (requeued == 0)
            {
                // Cancelled meanwhile (or already taken over): finish it the usual way.
                await DeleteLeftoversAsync(job, output: false);
                if (await FinishAsync(db, finish, job, j => j.MarkCancelled()))
                {
                    await TryEventAsync(progress, "warning", "cancelled", "Job cancelled while the worker shut down.", null);
                }
                return;
            }
            await TryEventAsync(progress, "warning", "requeued", "The worker is shutting down; the job is queued again and resumes from its checkpoint.", null);
            if (queue is not null)
            {
                var queued = queue.Enqueue(job.Id, job.Queue);
                await db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.HangfireJobId, queued), CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            // Still running (the sweep re-queues it once the heartbeat is stale) or queued without an entry (the sweep enqueues it).
            LogFinishFailed(ex, job.Id);
        }
    }

    /// <summary>What ending the attempt needs: its lease (the fence) and the webhook outbox (null when webhooks are off).</summary>
    private sealed record Finisher(JobWatch Watch, IJobEventPublisher? Events);
}
