using System.Text.Json;
using Hangfire;
using Hangfire.States;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Api.Idempotency;
using Optimizer.Domain.Common;
using Optimizer.Domain.Idempotency;
using Optimizer.Domain.Jobs;

namespace Optimizer.Api.Jobs;

/// <summary>Stores a validated job and hands it to Hangfire, never leaving a queued row without a Hangfire job.</summary>
public sealed class JobSubmitter(OptimizerDbContext db, IBackgroundJobClient hangfire, ILogger<JobSubmitter> logger)
{
    /// <summary>Scope of job creation in the idempotency table.</summary>
    public const string IdempotencyScope = "jobs";

    /// <summary>
    /// The queued job, or null when the queue could not be reached (then nothing is stored). A given
    /// <c>idempotency</c> key and body hash are stored in the same transaction as the job.
    /// </summary>
    /// <exception cref="DuplicateIdempotencyKeyException">A concurrent request with the same key stored its job first.</exception>
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
            Queue = valid.Method.Queue,
        };
        // Checkpoint 1: the row exists before Hangfire knows the id, so a worker that starts at once finds it.
        db.Jobs.Add(job);
        var record = idempotency is { } idem ? new IdempotencyRecord(tenantId, IdempotencyScope, idem.Key, idem.Hash, job.Id) : null;
        if (record is not null)
        {
            db.IdempotencyKeys.Add(record);
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (IdempotencyKeys.IsDuplicateKey(ex))
        {
            // The job row and the key were one transaction, so neither was stored.
            db.ChangeTracker.Clear();
            throw new DuplicateIdempotencyKeyException(ex);
        }
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
}
