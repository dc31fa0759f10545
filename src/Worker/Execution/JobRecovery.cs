using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Storage;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Worker.Execution;

/// <summary>
/// Finds jobs whose worker is gone and moves them on; every worker runs it periodically (<see cref="RecoveryService"/>).
/// A running job whose heartbeat is older than <c>Worker:LeaseTimeout</c> goes back to <c>queued</c> and is enqueued again
/// (the next attempt resumes from its checkpoints), or, once it has had <c>Worker:MaxAttempts</c> attempts, ends
/// <c>failed</c> with <c>worker_lost</c>; a <c>cancelling</c> one ends <c>cancelled</c>. A queued job whose queue entry is
/// gone (a crash between the two steps of a re-queue) is enqueued again.
/// </summary>
/// <remarks>
/// Every change is one conditional update that re-checks the staleness, so two workers sweeping at once, or a worker
/// that comes back to life, cannot both act on a job. Hangfire never re-runs a job behind our back: automatic retries
/// are off and the runner swallows every exception; a fetched job of a dead server is re-delivered by Hangfire.PostgreSql
/// only after its invisibility timeout (30 min), and then the runner finds the row not <c>queued</c> and does nothing,
/// or claims it exactly once if it is.
/// </remarks>
public sealed partial class JobRecovery(
    DbContextOptions<OptimizerDbContext> dbOptions,
    IArtifactStore store,
    IJobQueue queue,
    IOptions<WorkerOptions> options,
    ILogger<JobRecovery> logger,
    IJobEventPublisher? events = null)
{
    private const int BatchSize = 50;

    /// <summary>One sweep; returns how many jobs it moved on.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var cutoff = DateTimeOffset.UtcNow - settings.LeaseTimeout;
        await using var db = new OptimizerDbContext(dbOptions);
        var stale = await db.Jobs.AsNoTracking()
            .Where(j => (j.Status == JobStatus.Running || j.Status == JobStatus.Cancelling) && (j.HeartbeatAt == null || j.HeartbeatAt < cutoff))
            .OrderBy(j => j.HeartbeatAt).Take(BatchSize)
            .Select(j => new Lost(j.Id, j.TenantId, j.Status, j.Attempts, j.Queue))
            .ToListAsync(cancellationToken);
        var moved = 0;
        foreach (var job in stale)
        {
            moved += await RecoverAsync(db, job, cutoff, settings.MaxAttempts, cancellationToken) ? 1 : 0;
        }
        moved += await RequeueOrphansAsync(db, cutoff, cancellationToken);
        return moved;
    }

    private async Task<bool> RecoverAsync(OptimizerDbContext db, Lost job, DateTimeOffset cutoff, int maxAttempts, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var row = db.Jobs.Where(j => j.Id == job.Id && j.Status == job.Status && j.Attempts == job.Attempts
            && (j.HeartbeatAt == null || j.HeartbeatAt < cutoff));
        if (job.Status == JobStatus.Cancelling)
        {
            return await EndAsync(db, job, () => row.ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Cancelled)
                    .SetProperty(j => j.WorkerId, (string?)null).SetProperty(j => j.FinishedAt, now), cancellationToken),
                "warning", "cancelled", "The worker was lost while cancelling; job cancelled, partial output removed.");
        }
        if (job.Attempts >= maxAttempts)
        {
            var message = $"The worker running this job was lost on each of its {job.Attempts} attempt(s) (limit Worker:MaxAttempts = {maxAttempts}).";
            return await EndAsync(db, job, () => row.ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Failed)
                    .SetProperty(j => j.ErrorCode, JobErrorCodes.WorkerLost).SetProperty(j => j.ErrorMessage, message)
                    .SetProperty(j => j.WorkerId, (string?)null).SetProperty(j => j.FinishedAt, now), cancellationToken),
                "error", "failed", message);
        }
        if (await row.ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Queued)
                .SetProperty(j => j.WorkerId, (string?)null).SetProperty(j => j.HeartbeatAt, now), cancellationToken) == 0)
        {
            return false;
        }
        LogRequeued(job.Id, job.Attempts);
        await JobEvents.TryAppendAsync(db, job.Id, "warning", "requeued",
            $"The worker running attempt {job.Attempts} was lost; the job is queued again (at most {maxAttempts} attempts).", null);
        await EnqueueAsync(db, job.Id, job.Queue, cancellationToken);
        return true;
    }

    /// <summary>Queued rows with no live queue entry (re-queued by a worker that died before enqueueing): enqueue them.</summary>
    private async Task<int> RequeueOrphansAsync(OptimizerDbContext db, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        // Random order: a long backlog of healthy queued jobs must not hide the orphans behind it.
        var candidates = await db.Jobs.AsNoTracking()
            .Where(j => j.Status == JobStatus.Queued && (j.HeartbeatAt ?? j.CreatedAt) < cutoff)
            .OrderBy(_ => EF.Functions.Random()).Take(BatchSize)
            .Select(j => new { j.Id, j.Queue, j.HangfireJobId })
            .ToListAsync(cancellationToken);
        var requeued = 0;
        foreach (var job in candidates.Where(c => !queue.IsPending(c.HangfireJobId)))
        {
            LogOrphan(job.Id, job.HangfireJobId ?? "none");
            await EnqueueAsync(db, job.Id, job.Queue, cancellationToken);
            requeued++;
        }
        return requeued;
    }

    private async Task EnqueueAsync(OptimizerDbContext db, string jobId, string queueName, CancellationToken cancellationToken)
    {
        try
        {
            var queued = queue.Enqueue(jobId, queueName);
            await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.HangfireJobId, queued), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The row is queued; the orphan pass of a later sweep enqueues it.
            LogEnqueueFailed(ex, jobId);
        }
    }

    /// <summary>
    /// Runs the conditional terminal update and writes the job's webhook deliveries in the same transaction (an outbox:
    /// a sweeper that dies right after the commit loses no webhook), then queues them and tidies up.
    /// </summary>
    private async Task<bool> EndAsync(OptimizerDbContext db, Lost job, Func<Task<int>> update, string level, string stage, string message)
    {
        IReadOnlyList<string> deliveries = [];
        await using (var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None))
        {
            if (await update() == 0)
            {
                return false;
            }
            if (events is not null)
            {
                deliveries = await events.AddDeliveriesAsync(db, job.Id, CancellationToken.None);
            }
            await transaction.CommitAsync(CancellationToken.None);
        }
        events?.Queue(deliveries);
        await FinishedAsync(db, job, level, stage, message);
        return true;
    }

    private async Task FinishedAsync(OptimizerDbContext db, Lost job, string level, string stage, string message)
    {
        LogFinished(job.Id, stage);
        if (await JobArtifacts.DeleteAsync(store, job.TenantId, job.Id, checkpoints: true) is { } failure)
        {
            LogCleanupFailed(failure, job.Id);
        }
        await JobEvents.TryAppendAsync(db, job.Id, level, stage, message, null);
    }

    private sealed record Lost(string Id, string TenantId, JobStatus Status, int Attempts, string Queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} lost its worker on attempt {Attempt}; queued again")]
    private partial void LogRequeued(string jobId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} lost its worker; now {Stage}")]
    private partial void LogFinished(string jobId, string stage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} is queued without a live queue entry (was {QueueJobId}); enqueueing it again")]
    private partial void LogOrphan(string jobId, string queueJobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not enqueue job {JobId} again")]
    private partial void LogEnqueueFailed(Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete the partial output or checkpoints of job {JobId}")]
    private partial void LogCleanupFailed(Exception exception, string jobId);
}
