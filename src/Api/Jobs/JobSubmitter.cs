using System.Text.Json;
using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.Options;
using Optimizer.Api.Extensions;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Api.Idempotency;
using Optimizer.Domain.Common;
using Optimizer.Domain.Idempotency;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Api.Jobs;

/// <summary>Stores a validated job and hands it to Hangfire, never leaving a queued row without a Hangfire job.</summary>
public sealed class JobSubmitter(OptimizerDbContext db, IBackgroundJobClient hangfire, IOptions<OptimizerOptions> options,
    ILogger<JobSubmitter> logger)
{
    /// <summary>First key of the two-key advisory lock that serializes one tenant's submissions ("OP").</summary>
    private const int SubmissionLockClass = 0x4f50;

    /// <summary>Scope of job creation in the idempotency table.</summary>
    public const string IdempotencyScope = "jobs";

    /// <summary>
    /// The queued job, or null when the queue could not be reached (then nothing is stored). A given
    /// <c>idempotency</c> key and body hash are stored in the same transaction as the job.
    /// </summary>
    /// <exception cref="DuplicateIdempotencyKeyException">A concurrent request with the same key stored its job first.</exception>
    /// <exception cref="TooManyActiveJobsException">The tenant already has the configured number of active jobs.</exception>
    public async Task<Job?> SubmitAsync(string tenantId, CreateJobRequest request, ValidatedJob valid,
        (string Key, string Hash)? idempotency, CancellationToken cancellationToken)
    {
        var job = new Job(tenantId, valid.Method.Type, valid.Method.Method,
            JsonSerializer.Serialize(valid.Options, valid.Method.OptionsType, OptimizerJson.Options))
        {
            Name = request.Name,
            ModelId = request.ModelId,
            ModelsJson = request.Models is null ? null : JsonSerializer.Serialize(request.Models, OptimizerJson.Options),
            BaseModelId = request.BaseModelId,
            CalibrationDatasetId = request.CalibrationDatasetId,
            EvaluationJson = valid.Evaluation is null ? null : JsonSerializer.Serialize(valid.Evaluation, OptimizerJson.Options),
            NotifyUrls = [.. request.Notify ?? []],
            NotifySecret = request.Notify is { Count: > 0 } ? WebhookSecret.New() : null,
            Queue = valid.Method.Queue,
        };
        var record = idempotency is { } idem ? new IdempotencyRecord(tenantId, IdempotencyScope, idem.Key, idem.Hash, job.Id) : null;
        await InsertWithinLimitAsync(tenantId, job, record, cancellationToken);
        try
        {
            job.HangfireJobId = hangfire.Create<IJobExecutor>(x => x.RunAsync(job.Id, CancellationToken.None), new EnqueuedState(job.Queue));
        }
        catch (Exception ex)
        {
            // Checkpoint 2: enqueue failed, so the row goes too; the caller answers 503 and nothing is left queued.
            logger.LogError(ex, "Enqueueing job {JobId} failed; removing it", job.Id);
            db.Jobs.Remove(job);
            if (record is not null)
            {
                db.IdempotencyKeys.Remove(record);
            }
            await db.SaveChangesAsync(CancellationToken.None);
            return null;
        }
        // Checkpoint 3: only the Hangfire id is saved here (for cancelling); the worker needs nothing from it.
        await db.SaveChangesAsync(CancellationToken.None);
        return job;
    }

    /// <summary>
    /// Checkpoint 1: the row exists before Hangfire knows the id, so a worker that starts at once finds it. Count and
    /// insert run under a per-tenant advisory lock, so concurrent submissions cannot pass the active-jobs limit together.
    /// </summary>
    private async Task InsertWithinLimitAsync(string tenantId, Job job, IdempotencyRecord? record, CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxActiveJobsPerTenant;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({SubmissionLockClass}, hashtext({tenantId}))", cancellationToken);
        var active = await db.Jobs.CountAsync(j => j.TenantId == tenantId
            && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running || j.Status == JobStatus.Cancelling), cancellationToken);
        if (active >= limit)
        {
            throw new TooManyActiveJobsException(limit);
        }
        db.Jobs.Add(job);
        if (record is not null)
        {
            db.IdempotencyKeys.Add(record);
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (IdempotencyKeys.IsDuplicateKey(ex))
        {
            // The job row and the key were one transaction, so neither was stored.
            db.ChangeTracker.Clear();
            throw new DuplicateIdempotencyKeyException(ex);
        }
    }
}

/// <summary>The tenant has <see cref="Limit"/> queued, running or cancelling jobs already; nothing was stored.</summary>
public sealed class TooManyActiveJobsException(int limit)
    : Exception($"This tenant already has {limit} active (queued, running or cancelling) jobs, the configured maximum.")
{
    public int Limit { get; } = limit;
}
