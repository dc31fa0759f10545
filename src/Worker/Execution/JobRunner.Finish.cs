using Microsoft.EntityFrameworkCore;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Worker.Execution;

/// <summary>How an attempt ends: the fenced final save (with the webhook outbox) and the hand-back on shutdown.</summary>
public sealed partial class JobRunner
{
    /// <summary>Waits between tries of the final save while PostgreSQL is unreachable (about 15 s in all).</summary>
    private static readonly TimeSpan[] s_finishRetryDelays =
        [TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8)];

    /// <summary>
    /// Applies the final transition and saves it (with any model and report, and the webhook deliveries of the terminal
    /// events: an outbox) only if this attempt still holds the lease: the fencing update locks the row until commit, so
    /// the recovery sweep cannot re-queue the job in between. The deliveries are queued after the commit; a crash right
    /// after it leaves them pending, and the Worker's webhook sweep sends them. A database error (PostgreSQL restarting)
    /// is retried for a few seconds, so a short outage does not cost the job a second attempt.
    /// </summary>
    /// <returns>False when another attempt owns the job now, or the save failed (then the job is recovered later).</returns>
    private async Task<bool> FinishAsync(OptimizerDbContext db, Finisher finish, Job job, Action<Job> transition)
    {
        try
        {
            // Once, in memory: a failed try rolls back the database, not the tracked entities, so a retry saves them as they are.
            transition(job);
        }
        catch (Exception ex)
        {
            LogFinishFailed(ex, job.Id);
            return false;
        }
        for (var attempt = 0; ; attempt++)
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
            catch (Exception ex) when (attempt < s_finishRetryDelays.Length && IsDatabaseError(ex))
            {
                LogFinishRetry(ex, job.Id, attempt + 1);
                await Task.Delay(s_finishRetryDelays[attempt], CancellationToken.None);
            }
            catch (Exception ex)
            {
                LogFinishFailed(ex, job.Id);
                return false;
            }
        }
    }

    /// <summary>PostgreSQL unreachable or restarting (the connection, not the statement, failed).</summary>
    private static bool IsDatabaseError(Exception ex) => IsOutage(ex) || (ex.InnerException is { } inner && IsOutage(inner));

    private static bool IsOutage(Exception ex) => ex switch
    {
        // 57P01-03: the server is shutting down, crashed or still starting; 08xxx: the connection failed.
        Npgsql.PostgresException pg => pg.IsTransient || pg.SqlState.StartsWith("57P", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("08", StringComparison.Ordinal),
        Npgsql.NpgsqlException => true,
        _ => false,
    };

    /// <summary>Puts a running job back to <c>queued</c> (attempts unchanged) and enqueues it again; a cancelling one ends cancelled.</summary>
    /// <returns>How the attempt ended, for the duration metric: <c>requeued</c>, <c>cancelled</c> or <c>lost</c>.</returns>
    private async Task<string> HandBackAsync(OptimizerDbContext db, Finisher finish, Job job, IProgressReporter progress)
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
                    return "cancelled";
                }
                return "lost";
            }
            await TryEventAsync(progress, "warning", "requeued", "The worker is shutting down; the job is queued again and resumes from its checkpoint.", null);
            if (queue is not null)
            {
                var queued = queue.Enqueue(job.Id, job.Queue);
                await db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.HangfireJobId, queued), CancellationToken.None);
            }
            return "requeued";
        }
        catch (Exception ex)
        {
            // Still running (the sweep re-queues it once the heartbeat is stale) or queued without an entry (the sweep enqueues it).
            LogFinishFailed(ex, job.Id);
            return "lost";
        }
    }

    /// <summary>What ending the attempt needs: its lease (the fence) and the webhook outbox (null when webhooks are off).</summary>
    private sealed record Finisher(JobWatch Watch, IJobEventPublisher? Events);
}
