using System.Security.Claims;
using Optimizer.Api.Auth;
using Optimizer.Api.Contracts.Reports;

namespace Optimizer.Api.Endpoints;

/// <summary>Evaluation reports (JSON; the HTML rendering is a later issue).</summary>
public static class ReportEndpoints
{
    public static IEndpointRouteBuilder MapReportEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/reports").WithTags("Reports").RequireAuthorization(ApiPolicies.Tenant).MapGet("/{id}", Get);
        return app;
    }

    [EndpointSummary("Get an evaluation report")]
    public static async Task<Results<Ok<ReportResponse>, ProblemHttpResult>> Get(
        string id, ClaimsPrincipal user, OptimizerDbContext db, CancellationToken cancellationToken)
    {
        var tenantId = user.TenantId();
        var report = await db.Reports.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id && r.TenantId == tenantId, cancellationToken);
        return report is null ? Problems.NotFound("report", id) : TypedResults.Ok(ReportResponse.From(report));
    }
}
