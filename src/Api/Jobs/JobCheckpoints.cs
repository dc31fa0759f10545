using System.Text.Json;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;

namespace Optimizer.Api.Jobs;

/// <summary>
/// A job's checkpoint models as <c>GET /v1/jobs/{id}/checkpoints</c> lists them: one per step (the first event of a
/// step wins), ordered by step, only those whose model is still ready.
/// </summary>
public static class JobCheckpoints
{
    /// <param name="db">The database.</param>
    /// <param name="tenantId">The job's tenant (checkpoint models of other tenants are never listed).</param>
    /// <param name="jobId">The job.</param>
    /// <param name="afterStep">Only steps above this one.</param>
    /// <param name="cancellationToken">Cancels the queries.</param>
    public static async Task<List<CheckpointResponse>> ListAsync(OptimizerDbContext db, string tenantId, string jobId, long afterStep,
        CancellationToken cancellationToken)
    {
        var events = await db.JobEvents.AsNoTracking()
            .Where(e => e.JobId == jobId && e.Stage == CheckpointEvents.Stage && e.DataJson != null)
            .OrderBy(e => e.Seq).ToListAsync(cancellationToken);
        var parsed = events.Select(Parse).OfType<CheckpointResponse>()
            .GroupBy(c => c.Step).Select(g => g.First())
            .Where(c => c.Step > afterStep).OrderBy(c => c.Step).ToList();
        var ids = parsed.Select(c => c.ModelId).ToList();
        var existing = await db.Models.AsNoTracking().Where(m => ids.Contains(m.Id) && m.TenantId == tenantId && m.Status == ModelStatus.Ready)
            .Select(m => m.Id).ToListAsync(cancellationToken);
        return [.. parsed.Where(c => existing.Contains(c.ModelId))];
    }

    /// <summary>The checkpoint an event records; null for a malformed one (never fails the listing).</summary>
    private static CheckpointResponse? Parse(JobEvent e)
    {
        try
        {
            using var document = JsonDocument.Parse(e.DataJson!);
            var root = document.RootElement;
            if (!root.TryGetProperty("step", out var step) || !root.TryGetProperty("model_id", out var model)
                || step.ValueKind != JsonValueKind.Number || model.ValueKind != JsonValueKind.String)
            {
                return null;
            }
            JsonElement? metrics = root.TryGetProperty("metrics", out var m) ? m.Clone() : null;
            return new CheckpointResponse(step.GetInt32(), metrics, model.GetString()!, e.At);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
