using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Optimizer.Api.Auth;
using Optimizer.Api.Contracts.Common;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;

namespace Optimizer.Api.Endpoints;

/// <summary><c>GET /v1/jobs/{id}/checkpoints</c>: a fine-tune's intermediate checkpoint models, by step.</summary>
public static class JobCheckpointEndpoints
{
    public static IEndpointRouteBuilder MapJobCheckpointEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/jobs").WithTags("Jobs").RequireAuthorization(ApiPolicies.Tenant)
            .MapGet("/{id}/checkpoints", List);
        return app;
    }

    [EndpointSummary("List a fine-tune's checkpoints")]
    [EndpointDescription("Each checkpoint is a usable model saved every checkpoint_every steps: {step, metrics, model_id}, ordered by step; "
        + "page with ?after=<step>&limit=. Other job types have none (an empty list). Checkpoint models whose model was deleted are left out.")]
    public static async Task<Results<Ok<Page<CheckpointResponse>>, ValidationProblem, ProblemHttpResult>> List(
        string id, ClaimsPrincipal user, OptimizerDbContext db, [AsParameters] EventPageQuery page, CancellationToken cancellationToken)
    {
        if (Paging.Validate(page.Limit) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var tenantId = user.TenantId();
        if (!await db.Jobs.AnyAsync(j => j.Id == id && j.TenantId == tenantId, cancellationToken))
        {
            return Problems.NotFound("job", id);
        }
        var events = await db.JobEvents.AsNoTracking()
            .Where(e => e.JobId == id && e.Stage == CheckpointEvents.Stage && e.DataJson != null)
            .OrderBy(e => e.Seq).ToListAsync(cancellationToken);
        var parsed = events.Select(Parse).OfType<CheckpointResponse>()
            .GroupBy(c => c.Step).Select(g => g.First())
            .Where(c => c.Step > (page.After ?? 0)).OrderBy(c => c.Step).ToList();
        var ids = parsed.Select(c => c.ModelId).ToList();
        var existing = await db.Models.AsNoTracking().Where(m => ids.Contains(m.Id) && m.TenantId == tenantId && m.Status == ModelStatus.Ready)
            .Select(m => m.Id).ToListAsync(cancellationToken);
        var rows = parsed.Where(c => existing.Contains(c.ModelId)).Take((page.Limit ?? Paging.DefaultLimit) + 1).ToList();
        return TypedResults.Ok(Paging.Create(rows, page.Limit ?? Paging.DefaultLimit, c => c, c => c.Step.ToString(CultureInfo.InvariantCulture)));
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
