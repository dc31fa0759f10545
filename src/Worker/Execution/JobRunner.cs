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
using Optimizer.Domain.Webhooks;
using Optimizer.Worker.Evaluation;

namespace Optimizer.Worker.Execution;

/// <summary>
/// Runs one job end to end: what Hangfire invokes with only the job id (<see cref="IJobExecutor"/>).
/// </summary>
/// <remarks>
/// Delivery is at-least-once. Checkpoint 1: only a <c>queued</c> row is claimed (one conditional update), so a
/// re-delivered or already-cancelled job is a no-op. Checkpoint 2: the output model id is fixed before the upload, so
/// partial blobs can be deleted on any failure. Checkpoint 3: model, report and final status are saved in
/// one transaction. Every failure is recorded on the row; nothing is rethrown to Hangfire.
/// </remarks>
public sealed partial class JobRunner(
    IServiceScopeFactory scopes,
    PipelineRegistry registry,
    IArtifactStore store,
    IOptions<WorkerOptions> options,
    ILogger<JobRunner> logger) : IJobExecutor
{
    public async Task RunAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OptimizerDbContext>();
        var dbOptions = scope.ServiceProvider.GetRequiredService<DbContextOptions<OptimizerDbContext>>();
        var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == jobId, cancellationToken);
        if (job is null || job.Status != JobStatus.Queued)
        {
            LogSkipped(jobId, job?.Status.ToWire() ?? "missing");
            return;
        }
        // Claim the row atomically: two deliveries of one job, or a cancel racing the pick-up, leave one winner.
        var startedAt = DateTimeOffset.UtcNow;
        var claimed = await db.Jobs.Where(j => j.Id == jobId && j.Status == JobStatus.Queued).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Status, JobStatus.Running)
            .SetProperty(j => j.Attempts, j => j.Attempts + 1)
            .SetProperty(j => j.StartedAt, j => j.StartedAt ?? startedAt), cancellationToken);
        await db.Entry(job).ReloadAsync(cancellationToken);
        if (claimed == 0)
        {
            LogSkipped(jobId, job.Status.ToWire());
            return;
        }

        var workDir = Path.Combine(options.Value.WorkDir, "jobs", job.Id);
        await using var progress = await DbProgressReporter.CreateAsync(dbOptions, job.Id, cancellationToken);
        await using var watcher = new CancellationWatcher(dbOptions, job.Id, options.Value.CancelPollInterval);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, watcher.Token);
        var outputModel = new Model(job.TenantId, job.Name ?? $"{job.Type}-{job.Method}");
        try
        {
            await progress.EventAsync("info", "start", $"Running {job.Type}/{job.Method} (attempt {job.Attempts}).", null, linked.Token);
            var outcome = await ExecuteAsync(scope.ServiceProvider, db, job, outputModel, workDir, progress, linked.Token);
            job.MetricsJson = JsonSerializer.Serialize(outcome.Metrics, OptimizerJson.Options);
            job.MarkSucceeded(outcome.OutputModelId, outcome.ReportId);
            await db.SaveChangesAsync(CancellationToken.None);
            await progress.EventAsync("info", "done", "Job succeeded.", new { output_model_id = outcome.OutputModelId, report_id = outcome.ReportId }, CancellationToken.None);
        }
        catch (OperationCanceledException) when (watcher.IsCancellationRequested)
        {
            await CleanUpAsync(db, outputModel);
            await FinishAsync(db, job, j => j.MarkCancelled());
            await TryEventAsync(progress, "warning", "cancelled", "Job cancelled; partial output removed.", null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await CleanUpAsync(db, outputModel);
            await FinishAsync(db, job, j => j.MarkFailed(JobErrorCodes.WorkerShutdown, "The worker shut down while the job was running; resubmit it."));
            await TryEventAsync(progress, "error", "failed", "Worker shut down.", null);
        }
        catch (Exception ex)
        {
            var code = JobErrorCodes.Classify(ex);
            LogFailed(ex, job.Id, code);
            await CleanUpAsync(db, outputModel);
            var message = code == JobErrorCodes.InternalError ? $"Internal error: {ex.Message}" : ex.Message;
            await FinishAsync(db, job, j => j.MarkFailed(code, message));
            await TryEventAsync(progress, "error", "failed", message, new { code });
        }
        finally
        {
            TryDeleteDirectory(workDir);
        }
        // Webhooks once the final status is saved (the publisher reads it back, never throws, and is idempotent).
        if (scope.ServiceProvider.GetService<IJobEventPublisher>() is { } events)
        {
            await events.PublishAsync(job.Id, CancellationToken.None);
        }
    }

    private async Task<RunOutcome> ExecuteAsync(IServiceProvider services, OptimizerDbContext db, Job job, Model outputModel,
        string workDir, DbProgressReporter progress, CancellationToken cancellationToken)
    {
        var entry = registry.Find(job.Type, job.Method)
            ?? throw new JobFailedException(JobErrorCodes.UnsupportedMethod, $"This worker has no pipeline for {job.Type}/{job.Method}.");
        TryDeleteDirectory(workDir);
        var outputDir = Path.Combine(workDir, "output");
        Directory.CreateDirectory(outputDir);
        var fetcher = new BlobModelFetcher(db, store, job.TenantId, workDir);
        var sources = new List<SourceModel>();
        foreach (var id in SourceModelIds(job))
        {
            await progress.ReportAsync("download", 0, $"Downloading {id}", cancellationToken);
            sources.Add(await fetcher.FetchAsync(id, cancellationToken));
        }
        var context = new PipelineContext(job, sources, workDir, outputDir, progress, fetcher, logger);
        var result = await entry.RunAsync(services, context, cancellationToken);
        var metrics = new Dictionary<string, object?>(result.Metrics);
        string? outputModelId = null;
        var reportId = result.ReportId;
        if (result.Output is not null)
        {
            await progress.ReportAsync("upload", 0.95, "Uploading the output model", cancellationToken);
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

    /// <summary>The job's input models: <c>model_id</c>, then merge inputs, then a merge base.</summary>
    private static IEnumerable<string> SourceModelIds(Job job)
    {
        var ids = new List<string>();
        if (job.ModelId is not null)
        {
            ids.Add(job.ModelId);
        }
        if (job.ModelsJson is not null)
        {
            using var doc = JsonDocument.Parse(job.ModelsJson);
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                if (item.TryGetProperty("model_id", out var id) && id.GetString() is { } modelId)
                {
                    ids.Add(modelId);
                }
            }
        }
        if (job.BaseModelId is not null)
        {
            ids.Add(job.BaseModelId);
        }
        return ids.Distinct();
    }

    private async Task CleanUpAsync(OptimizerDbContext db, Model outputModel)
    {
        // Drop the unsaved model/report from the context so the final status save writes nothing else.
        foreach (var entry in db.ChangeTracker.Entries().Where(e => e.Entity is Model or ModelFile or Report).ToList())
        {
            entry.State = EntityState.Detached;
        }
        try
        {
            await store.DeletePrefixAsync(outputModel.BlobPrefix, CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogCleanupFailed(ex, outputModel.BlobPrefix);
        }
    }

    private async Task FinishAsync(OptimizerDbContext db, Job job, Action<Job> transition)
    {
        try
        {
            transition(job);
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogFinishFailed(ex, job.Id);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} skipped: it is {Status}")]
    private partial void LogSkipped(string jobId, string status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} failed with {Code}")]
    private partial void LogFailed(Exception exception, string jobId, string code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not clean up {Location}")]
    private partial void LogCleanupFailed(Exception exception, string location);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not record the final status of job {JobId}")]
    private partial void LogFinishFailed(Exception exception, string jobId);
}
