using Microsoft.Extensions.Logging;

namespace Optimizer.Domain.Telemetry;

/// <summary>
/// Logging scopes that put the ids on every line written inside them: the scope is ambient (async-local), so EF Core,
/// Hangfire, the pipelines and timers started inside carry it too. The JSON console formatter writes them as
/// <c>"Scopes":[{"JobId":"…","TenantId":"…"}]</c>.
/// </summary>
public static class LogScopes
{
    public static IDisposable? BeginJobScope(this ILogger logger, string jobId, string tenantId) =>
        logger.BeginScope("Job {JobId} of tenant {TenantId}", jobId, tenantId);

    public static IDisposable? BeginTenantScope(this ILogger logger, string tenantId) =>
        logger.BeginScope("Tenant {TenantId}", tenantId);

    /// <summary>A process-wide loop (recovery or webhook sweep): its lines say so instead of belonging to no one.</summary>
    public static IDisposable? BeginBackgroundScope(this ILogger logger, string task) =>
        logger.BeginScope("Background {Task}", task);
}
