using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Optimizer.Domain.Common;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Evaluate.Standard;
using Optimizer.Domain.Models;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Reports;
using Optimizer.Domain.Storage;
using Optimizer.Domain.Telemetry;
using Optimizer.Domain.Webhooks;
using Optimizer.Worker.Evaluation;

namespace Optimizer.Worker.Execution;

/// <summary>
/// Runs one job end to end: what Hangfire invokes with only the job id (<see cref="IJobExecutor"/>).
/// </summary>
/// <remarks>
/// Delivery is at-least-once. Checkpoint 1: only a <c>queued</c> row is claimed (one conditional update that also takes
/// the lease: worker id, attempt, heartbeat), so a re-delivered, recovered-elsewhere or cancelled job is a no-op; Hangfire's
/// own retries are off, so a job runs again only when our recovery (<see cref="JobRecovery"/>) or a graceful hand-back
/// puts the row back to <c>queued</c>. Checkpoint 2: the output model id is derived from the job id, so every attempt
/// writes the same blob folder and partial blobs can be deleted on any failure. Checkpoint 3: model, report and final
/// status (and the webhook deliveries of the terminal events: an outbox) are saved in one transaction that first checks
/// this attempt still holds the lease, so exactly one attempt registers an output and its webhooks. Every failure is recorded on the row; nothing is rethrown to Hangfire.
/// </remarks>
public sealed partial class JobRunner(
    IServiceScopeFactory scopes,
    PipelineRegistry registry,
    IArtifactStore store,
    IOptions<WorkerOptions> options,
    ILogger<JobRunner> logger,
    OptimizerMetrics metrics,
    IJobQueue? queue = null) : IJobExecutor
{
    public async Task RunAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OptimizerDbContext>();
        var dbOptions = scope.ServiceProvider.GetRequiredService<DbContextOptions<OptimizerDbContext>>();
        var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == jobId, cancellationToken);
        if (job is null)
        {
            LogSkipped(jobId, "missing");
            return;
        }
        // Every line logged from here on, by any component on this flow (EF Core, pipelines, the heartbeat), names the job.
        using var logScope = logger.BeginJobScope(job.Id, job.TenantId);
        if (job.Status != JobStatus.Queued)
        {
            LogSkipped(jobId, job.Status.ToWire());
            return;
        }
        // Claim the row atomically: two deliveries of one job, or a cancel racing the pick-up, leave one winner.
        var startedAt = DateTimeOffset.UtcNow;
        var workerId = JobWatch.ProcessWorkerId;
        var claimed = await db.Jobs.Where(j => j.Id == jobId && j.Status == JobStatus.Queued).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Status, JobStatus.Running)
            .SetProperty(j => j.Attempts, j => j.Attempts + 1)
            .SetProperty(j => j.WorkerId, workerId)
            .SetProperty(j => j.HeartbeatAt, startedAt)
            .SetProperty(j => j.StartedAt, j => j.StartedAt ?? startedAt), cancellationToken);
        await db.Entry(job).ReloadAsync(cancellationToken);
        if (claimed == 0)
        {
            LogSkipped(jobId, job.Status.ToWire());
            return;
        }

        // A child of the submitting request (Consumer: it processes what the Api enqueued), on every attempt.
        using var activity = OptimizerActivities.StartChildOf("job.run", ActivityKind.Consumer, job.TraceParent);
        activity?.SetTag("optimizer.job.id", job.Id).SetTag("optimizer.job.type", job.Type).SetTag("optimizer.job.method", job.Method)
            .SetTag("optimizer.job.attempt", job.Attempts);
        var clock = Stopwatch.StartNew();
        var ended = "lost";
        LogStarted(job.Id, job.Type, job.Method, job.Attempts, workerId);
        var settings = options.Value;
        var workDir = Path.Combine(settings.WorkDir, "jobs", job.Id);
        await using var progress = await DbProgressReporter.CreateAsync(dbOptions, job.Id, cancellationToken);
        await using var watch = new JobWatch(dbOptions, job.Id, workerId, job.Attempts, settings.HeartbeatInterval);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, watch.CancelRequested, watch.Lost);
        var finish = new Finisher(watch, scope.ServiceProvider.GetService<IJobEventPublisher>());
        var outputModel = new Model(job.TenantId, job.Name ?? $"{job.Type}-{job.Method}", JobArtifacts.OutputModelId(job));
        var checkpoint = new JobCheckpoint(store, job, Path.Combine(workDir, "checkpoint"), settings.TestCheckpointDelay);
        try
        {
            await progress.EventAsync("info", "start", $"Running {job.Type}/{job.Method} (attempt {job.Attempts}).", null, linked.Token);
            var outcome = await ExecuteAsync(scope.ServiceProvider, db, job, outputModel, workDir, progress, checkpoint, linked.Token);
            job.MetricsJson = JsonSerializer.Serialize(outcome.Metrics, OptimizerJson.Options);
            if (await FinishAsync(db, finish, job, j => j.MarkSucceeded(outcome.OutputModelId, outcome.ReportId)))
            {
                ended = "succeeded";
                await DeleteLeftoversAsync(job, output: false);
                await progress.EventAsync("info", "done", "Job succeeded.", new { output_model_id = outcome.OutputModelId, report_id = outcome.ReportId }, CancellationToken.None);
            }
        }
        catch (Exception) when (watch.IsLost)
        {
            // Another attempt owns the job (and the output folder) now: touch nothing it may be using.
            LogLeaseLost(job.Id, job.Attempts);
        }
        catch (OperationCanceledException) when (watch.IsCancellationRequested)
        {
            await CleanUpAsync(db, job);
            ended = await FinishAsync(db, finish, job, j => j.MarkCancelled()) ? "cancelled" : ended;
            await TryEventAsync(progress, "warning", "cancelled", "Job cancelled; partial output removed.", null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Graceful shutdown: the checkpoints stay, the job goes back to the queue for another worker (or this one, restarted).
            await CleanUpAsync(db, job, checkpoints: false);
            ended = await HandBackAsync(db, finish, job, progress);
        }
        catch (Exception ex)
        {
            var code = JobErrorCodes.Classify(ex);
            LogFailed(ex, job.Id, code);
            await CleanUpAsync(db, job);
            var message = code == JobErrorCodes.InternalError ? $"Internal error: {ex.Message}" : ex.Message;
            ended = await FinishAsync(db, finish, job, j => j.MarkFailed(code, message)) ? "failed" : ended;
            await TryEventAsync(progress, "error", "failed", message, new { code });
        }
        finally
        {
            TryDeleteDirectory(workDir);
            metrics.JobAttemptEnded(job.Type, job.Method, ended, clock.Elapsed);
            activity?.SetTag("optimizer.job.outcome", ended);
            LogEnded(job.Id, ended, clock.Elapsed.TotalSeconds);
        }
    }

    private async Task<RunOutcome> ExecuteAsync(IServiceProvider services, OptimizerDbContext db, Job job, Model outputModel,
        string workDir, DbProgressReporter progress, JobCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        var entry = registry.Find(job.Type, job.Method)
            ?? throw new JobFailedException(JobErrorCodes.UnsupportedMethod, $"This worker has no pipeline for {job.Type}/{job.Method}.");
        // One job per process: the high-water mark can be reset to measure this job alone (see PeakResidentMemory).
        var measuresPeak = options.Value.Count == 1 && PeakResidentMemory.TryReset();
        TryDeleteDirectory(workDir);
        var outputDir = Path.Combine(workDir, "output");
        Directory.CreateDirectory(outputDir);
        var fetcher = new BlobModelFetcher(db, store, job.TenantId, workDir);
        var sources = new List<SourceModel>();
        foreach (var id in JobSources.ModelIds(job))
        {
            await progress.ReportAsync("download", 0, $"Downloading {id}", cancellationToken);
            sources.Add(await fetcher.FetchAsync(id, cancellationToken));
        }
        var context = new PipelineContext(job, sources, workDir, outputDir, progress, fetcher, logger, checkpoint);
        var result = await entry.RunAsync(services, context, cancellationToken);
        if (checkpoint.Restored > 0)
        {
            await progress.EventAsync("info", "checkpoint",
                $"Resumed: {checkpoint.Restored} unit(s) of work restored from the checkpoint of an earlier attempt.", new { restored = checkpoint.Restored }, cancellationToken);
        }
        var metrics = new Dictionary<string, object?>(result.Metrics);
        string? outputModelId = null;
        var reportId = result.ReportId;
        if (result.Output is not null)
        {
            await progress.ReportAsync("upload", 0.95, "Uploading the output model", cancellationToken);
            if (job.Attempts > 1)
            {
                // A dead attempt may have uploaded part of this folder, possibly other file names.
                await store.DeletePrefixAsync(outputModel.BlobPrefix, cancellationToken);
            }
            await ModelPublisher.UploadAsync(job, result.Output, [.. sources.Select(s => s.Model.Id)], outputDir, store,
                outputModel, cancellationToken);
            db.Models.Add(outputModel);
            outputModelId = outputModel.Id;
            if (job.EvaluationJson is not null)
            {
                var report = await EvaluateOutputAsync(services, job, outputModel, outputDir, sources, context, metrics, cancellationToken);
                db.Reports.Add(report);
                reportId = report.Id;
            }
        }
        if (measuresPeak)
        {
            metrics["peak_memory_bytes"] = PeakResidentMemory.Read();
        }
        return new RunOutcome(outputModelId, reportId, metrics);
    }

    private static async Task<Report> EvaluateOutputAsync(IServiceProvider services, Job job, Model outputModel, string outputDir,
        List<SourceModel> sources, PipelineContext context, Dictionary<string, object?> metrics, CancellationToken cancellationToken)
    {
        var evaluator = services.GetRequiredService<IModelEvaluator>();
        var spec = JsonSerializer.Deserialize<EvaluationSpec>(job.EvaluationJson!, OptimizerJson.Options) ?? new EvaluationSpec();
        await context.Progress.ReportAsync("evaluate", 0.96, "Evaluating the output against its source", cancellationToken);
        var outcome = await evaluator.EvaluateAsync(
            new EvaluationRequest(job, new SourceModel(outputModel, outputDir), sources.FirstOrDefault(), spec, context),
            cancellationToken);
        foreach (var (key, value) in outcome.Metrics)
        {
            metrics[key] = value;
        }
        return outcome.Report;
    }

    /// <summary>Removes the partial output (and, unless handing the job back, its checkpoints) of this attempt.</summary>
    private async Task CleanUpAsync(OptimizerDbContext db, Job job, bool checkpoints = true)
    {
        // Drop the unsaved model/report from the context so the final status save writes nothing else.
        foreach (var entry in db.ChangeTracker.Entries().Where(e => e.Entity is Model or ModelFile or Report).ToList())
        {
            entry.State = EntityState.Detached;
        }
        await DeleteLeftoversAsync(job, output: true, checkpoints);
    }

    private async Task DeleteLeftoversAsync(Job job, bool output, bool checkpoints = true)
    {
        try
        {
            if (output)
            {
                await store.DeletePrefixAsync(JobArtifacts.OutputPrefix(job.TenantId, job.Id), CancellationToken.None);
            }
            if (checkpoints)
            {
                await store.DeletePrefixAsync(JobArtifacts.CheckpointPrefix(job.TenantId, job.Id), CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            LogCleanupFailed(ex, $"the blobs of job {job.Id}");
        }
    }

    private static async Task TryEventAsync(IProgressReporter progress, string level, string stage, string message, object? data)
    {
        try
        {
            await progress.EventAsync(level, stage, message, data, CancellationToken.None);
        }
        catch (Exception)
        {
            // The status is already recorded; a lost event must not mask it.
        }
    }

    private void TryDeleteDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (Exception ex)
        {
            LogCleanupFailed(ex, dir);
        }
    }

    private sealed record RunOutcome(string? OutputModelId, string? ReportId, IReadOnlyDictionary<string, object?> Metrics);
}
