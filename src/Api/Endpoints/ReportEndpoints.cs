using System.Security.Claims;
using Microsoft.Net.Http.Headers;
using Optimizer.Api.Auth;
using Optimizer.Api.Contracts.Reports;
using Optimizer.Api.Reports;

namespace Optimizer.Api.Endpoints;

/// <summary>Evaluation reports: JSON, or with <c>Accept: text/html</c> a self-contained HTML page.</summary>
public static class ReportEndpoints
{
    public static IEndpointRouteBuilder MapReportEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/reports").WithTags("Reports").RequireAuthorization(ApiPolicies.Tenant).MapGet("/{id}", Get)
            .Produces<ReportResponse>(StatusCodes.Status200OK, "application/json", "text/html");
        return app;
    }

    [EndpointSummary("Get an evaluation report")]
    [EndpointDescription("JSON by default. With Accept: text/html (preferred over JSON), one self-contained HTML page: the verdict, "
        + "the score, the items as a tree with their evidence and inline SVG charts (per-layer error, comparison with the baseline).")]
    public static async Task<Results<Ok<ReportResponse>, ContentHttpResult, ProblemHttpResult>> Get(
        string id, ClaimsPrincipal user, OptimizerDbContext db, HttpRequest request, CancellationToken cancellationToken)
    {
        var tenantId = user.TenantId();
        var report = await db.Reports.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id && r.TenantId == tenantId, cancellationToken);
        if (report is null)
        {
            return Problems.NotFound("report", id);
        }
        return WantsHtml(request)
            ? TypedResults.Content(ReportHtml.Render(report), "text/html; charset=utf-8")
            : TypedResults.Ok(ReportResponse.From(report));
    }

    /// <summary>HTML when the client ranks text/html above application/json (a browser's Accept does; curl's */* does not).</summary>
    public static bool WantsHtml(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        double Quality(string type) => accept
            .Where(a => a.MediaType.Equals(type, StringComparison.OrdinalIgnoreCase))
            .Select(a => a.Quality ?? 1.0)
            .DefaultIfEmpty(0)
            .Max();
        var html = Quality("text/html");
        return html > 0 && html >= Quality("application/json");
    }
}
