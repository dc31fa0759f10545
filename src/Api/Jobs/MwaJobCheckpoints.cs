using System.Text.Json;
using Optimizer.Domain.Methods.Merge.Mwa;

namespace Optimizer.Api.Jobs;

/// <summary>
/// The <c>job_id</c> form of <c>merge/mwa</c>: replaces <see cref="MwaOptions.JobId"/> by that fine-tune's checkpoints
/// (<c>GET /v1/jobs/{id}/checkpoints</c>: step, <c>metrics.loss</c>, model_id) before the job is checked further and stored.
/// </summary>
public static class MwaJobCheckpoints
{
    /// <returns>
    /// The job with its checkpoints filled in (unchanged when it is not an MWA job naming a job), or, with the job
    /// unchanged, the reason it cannot be resolved (a 422: unknown job, not a fine-tune, fewer than two checkpoints, a
    /// checkpoint without the metric).
    /// </returns>
    public static async Task<(ValidatedJob Job, string? Error)> ResolveAsync(OptimizerDbContext db, string tenantId, ValidatedJob job,
        CancellationToken cancellationToken)
    {
        if (job.Options is not MwaOptions { JobId: { } jobId } options)
        {
            return (job, null);
        }
        var source = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId && j.TenantId == tenantId)
            .Select(j => new { j.Type, j.Method }).SingleOrDefaultAsync(cancellationToken);
        if (source is null)
        {
            return (job, $"params.job_id: no job '{jobId}' exists.");
        }
        if (source.Type != "finetune")
        {
            return (job, $"params.job_id: job '{jobId}' is a {source.Type} job ({source.Method}); MWA averages the checkpoints of a finetune job.");
        }
        var checkpoints = await JobCheckpoints.ListAsync(db, tenantId, jobId, 0, cancellationToken);
        var resolved = options with
        {
            Checkpoints = [.. checkpoints.Select(c => new MwaCheckpoint(c.ModelId, c.Step, Loss(c.Metrics)))],
        };
        if (checkpoints.Count < 2)
        {
            return (job, $"params.job_id: job '{jobId}' has {checkpoints.Count} checkpoint model(s); MWA needs at least two "
                + "(fine-tune with checkpoint_every below steps).");
        }
        if (resolved.CheckpointErrors().FirstOrDefault() is { } error)
        {
            return (job, $"params.job_id: the checkpoints of job '{jobId}' cannot be averaged: {error.ErrorMessage}");
        }
        return (job with { Options = resolved }, null);
    }

    private static double? Loss(JsonElement? metrics) =>
        metrics is { ValueKind: JsonValueKind.Object } m && m.TryGetProperty("loss", out var loss) && loss.TryGetDouble(out var value)
            ? value
            : null;
}
