using System.Text.Json;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Npgsql;
using Optimizer.Api.Extensions;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Api.Idempotency;
using Optimizer.Domain.Common;
using Optimizer.Domain.Idempotency;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Routing;
using Optimizer.Domain.Telemetry;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Api.Jobs;

/// <summary>Stores a validated job and hands it to Hangfire, never leaving a queued row without a Hangfire job.</summary>
public sealed partial class JobSubmitter(OptimizerDbContext db, IBackgroundJobClient hangfire, IOptions<OptimizerOptions> options,
    MethodQueueRoutes routes, QueueServers servers, ILogger<JobSubmitter> logger)
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
            Queue = routes.QueueFor(valid.Method),
            // The worker's job.run span continues this request's trace (W3C traceparent, stored with the row).
            TraceParent = OptimizerActivities.CurrentTraceParent(),
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
        if (servers.Counts() is { } serving && !serving.ContainsKey(job.Queue))
        {
            LogUnservedQueue(job.Id, job.Queue);
        }
        return job;
    }

    /// <summary>Without this the job would just stay queued; the gauge <c>optimizer_queue_workers</c> shows the same.</summary>
    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} is on queue {Queue}, which no running worker serves: it waits "
        + "until a worker with that queue in Worker:Queues starts (or change Optimizer:MethodQueues)")]
    private partial void LogUnservedQueue(string jobId, string queue);

    /// <summary>
    /// Checkpoint 1: the row exists before Hangfire knows the id, so a worker that starts at once finds it. The limit is
    /// checked after the insert, under a per-tenant advisory lock held until the commit: each submission counts the
    /// tenant's active jobs (its own included) only once every submission that counted before it has committed or rolled
    /// back, so concurrent submissions cannot pass the limit together.
    /// </summary>
    /// <remarks>
    /// Inserting first keeps the serialized part short: the lock and the count travel in one round trip, and the commit is
    /// the only other one. Locking before the insert (as this did first) held the lock across four round trips, which
    /// under load made every submission of a tenant wait for all the ones before it.
    /// </remarks>
    private async Task InsertWithinLimitAsync(string tenantId, Job job, IdempotencyRecord? record, CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxActiveJobsPerTenant;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Jobs.Add(job);
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
        if (await CountActiveUnderLockAsync(tenantId, transaction.GetDbTransaction(), cancellationToken) > limit)
        {
            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            throw new TooManyActiveJobsException(limit);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Takes the tenant's submission lock and counts its queued, running and cancelling jobs, in one round trip. Two
    /// statements, not one: under read committed each statement sees what was committed before it started, so the count
    /// must start after the lock is granted.
    /// </summary>
    private async Task<int> CountActiveUnderLockAsync(string tenantId, System.Data.Common.DbTransaction transaction,
        CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch((NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                {
                    Parameters = { new() { Value = SubmissionLockClass }, new() { Value = tenantId } },
                },
                new NpgsqlBatchCommand(CountActiveSql) { Parameters = { new() { Value = tenantId }, new() { Value = ActiveStatuses } } },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetInt32(0);
    }

    private const string CountActiveSql =
        "SELECT count(*)::int FROM optimizer.jobs WHERE \"TenantId\" = $1 AND \"Status\" = ANY($2)";

    /// <summary>The statuses that hold one of the tenant's active-job slots, as the jobs table stores them.</summary>
    private static readonly string[] ActiveStatuses =
        [JobStatus.Queued.ToWire(), JobStatus.Running.ToWire(), JobStatus.Cancelling.ToWire()];
}

/// <summary>The tenant has <see cref="Limit"/> queued, running or cancelling jobs already; nothing was stored.</summary>
public sealed class TooManyActiveJobsException(int limit)
    : Exception($"This tenant already has {limit} active (queued, running or cancelling) jobs, the configured maximum.")
{
    public int Limit { get; } = limit;
}
