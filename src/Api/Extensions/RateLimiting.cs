using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Optimizer.Api.Auth;
using Optimizer.Api.Errors;

namespace Optimizer.Api.Extensions;

/// <summary>
/// Per-tenant request limit on <c>/v1</c>: a fixed one-minute window of <c>Optimizer:RateLimit:PermitsPerMinute</c>
/// requests per tenant (partitioned by the tenant of the API key, so runs after authentication). Admin and
/// unauthenticated requests are not limited here; refusals are 429 problem+json with <c>Retry-After</c>.
/// </summary>
public static class RateLimiting
{
    public static IServiceCollection AddTenantRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<OptimizerOptions>>((limiter, optimizer) =>
        {
            var permits = optimizer.Value.RateLimit.PermitsPerMinute;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                context.Request.Path.StartsWithSegments("/v1") && context.User.FindFirst(ApiPolicies.TenantClaim)?.Value is { } tenantId
                    ? RateLimitPartition.GetFixedWindowLimiter(tenantId, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = permits,
                        Window = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                    })
                    : RateLimitPartition.GetNoLimiter(""));
            limiter.OnRejected = WriteRejectionAsync;
        });
        return services;
    }

    private static async ValueTask WriteRejectionAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Type = ProblemTypes.For(StatusCodes.Status429TooManyRequests),
                Detail = $"This tenant's rate limit is {context.RequestServices.GetRequiredService<IOptions<OptimizerOptions>>().Value.RateLimit.PermitsPerMinute} "
                    + $"requests per minute; retry after {seconds} s.",
            },
        });
    }
}
