using System.Globalization;
using System.Security.Claims;
using Optimizer.Api.Auth;
using Optimizer.Api.Contracts.Common;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Api.Jobs;

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
        var rows = (await JobCheckpoints.ListAsync(db, tenantId, id, page.After ?? 0, cancellationToken))
            .Take((page.Limit ?? Paging.DefaultLimit) + 1).ToList();
        return TypedResults.Ok(Paging.Create(rows, page.Limit ?? Paging.DefaultLimit, c => c, c => c.Step.ToString(CultureInfo.InvariantCulture)));
    }
}
