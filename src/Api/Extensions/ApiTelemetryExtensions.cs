using System.Security.Claims;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Optimizer.Api.Auth;
using Optimizer.Domain.Telemetry;

namespace Optimizer.Api.Extensions;

/// <summary>The Api's telemetry: ASP.NET Core metrics and spans, the cluster gauges, <c>/metrics</c>, tenant log scopes.</summary>
public static class ApiTelemetryExtensions
{
    public const string MetricsPath = "/metrics";

    public static IHostApplicationBuilder AddApiTelemetry(this IHostApplicationBuilder builder)
    {
        builder.AddOptimizerTelemetry("optimizer-api",
            m => m.AddAspNetCoreInstrumentation().AddPrometheusExporter(),
            t => t.AddAspNetCoreInstrumentation(o => o.Filter = c => !c.Request.Path.StartsWithSegments(MetricsPath)));
        builder.Services.AddSingleton<ClusterGauges>();
        return builder;
    }

    /// <summary>
    /// <c>GET /metrics</c> in the Prometheus text format, without authentication: Prometheus scrapes pods directly on
    /// their port, and the numbers are aggregates with no tenant or job ids. Keep the path off a public ingress.
    /// </summary>
    public static WebApplication MapMetricsEndpoint(this WebApplication app)
    {
        // The gauges register their instruments on first resolution; do it before the first scrape.
        _ = app.Services.GetRequiredService<ClusterGauges>();
        app.MapPrometheusScrapingEndpoint(MetricsPath).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>After authentication: every line logged for a tenant's request carries its <c>TenantId</c>.</summary>
    public static WebApplication UseTenantLogScope(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Optimizer.Api.Requests");
        app.Use(async (context, next) =>
        {
            if (context.User.FindFirstValue(ApiPolicies.TenantClaim) is not { } tenantId)
            {
                await next(context);
                return;
            }
            using (logger.BeginTenantScope(tenantId))
            {
                await next(context);
            }
        });
        return app;
    }
}
