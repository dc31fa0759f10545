using System.Text.Json;
using Hangfire;
using Hangfire.States;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Domain.Common;
using Optimizer.Domain.Jobs;

namespace Optimizer.Api.Jobs;

/// <summary>Stores a validated job and hands it to Hangfire, never leaving a queued row without a Hangfire job.</summary>
public sealed class JobSubmitter(OptimizerDbContext db, IBackgroundJobClient hangfire, ILogger<JobSubmitter> logger)
{
    /// <summary>The queued job, or null when the queue could not be reached (then nothing is stored).</summary>
    public async Task<Job?> SubmitAsync(string tenantId, CreateJobRequest request, ValidatedJob valid, CancellationToken cancellationToken)
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
        await db.SaveChangesAsync(cancellationToken);
        try
        {
            job.HangfireJobId = hangfire.Create<IJobExecutor>(x => x.RunAsync(job.Id, CancellationToken.None), new EnqueuedState(job.Queue));
        }
        catch (Exception ex)
        {
            // Checkpoint 2: enqueue failed, so the row goes too; the caller answers 503 and nothing is left queued.
            logger.LogError(ex, "Enqueueing job {JobId} failed; removing it", job.Id);
            db.Jobs.Remove(job);
            await db.SaveChangesAsync(CancellationToken.None);
            return null;
        }
        // Checkpoint 3: only the Hangfire id is saved here (for cancelling); the worker needs nothing from it.
        await db.SaveChangesAsync(CancellationToken.None);
        return job;
    }
}
