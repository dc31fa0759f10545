using Hangfire;

namespace Optimizer.Api.Endpoints;

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (PostgreSQL, blob store and Hangfire storage answer).</summary>
public static class HealthEndpoints
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", Live).WithTags("Health").AllowAnonymous();
        app.MapGet("/readyz", Ready).WithTags("Health").AllowAnonymous();
        return app;
    }

    /// <summary>Liveness: the process is up.</summary>
    public static Ok<HealthStatus> Live() => TypedResults.Ok(new HealthStatus("ok", null));

    /// <summary>Readiness: every dependency answers within a few seconds.</summary>
    public static async Task<Results<Ok<HealthStatus>, ProblemHttpResult>> Ready(
        OptimizerDbContext db, IArtifactStore store, IServiceProvider services, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_timeout);
        var checks = new Dictionary<string, bool>
        {
            ["postgres"] = await Try(() => db.Database.CanConnectAsync(timeout.Token)),
            ["blob"] = await Try(() => store.PingAsync(timeout.Token)),
            ["hangfire"] = await Try(() => Task.Run(() =>
            {
                using var connection = services.GetRequiredService<JobStorage>().GetConnection();
                connection.GetAllEntriesFromHash("optimizer:readyz");
                return true;
            }, timeout.Token).WaitAsync(timeout.Token)),
        };
        if (checks.Values.All(ok => ok))
        {
            return TypedResults.Ok(new HealthStatus("ready", checks));
        }
        var down = string.Join(", ", checks.Where(c => !c.Value).Select(c => c.Key));
        return TypedResults.Problem(
            detail: $"Not reachable: {down}.",
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Dependency unavailable",
            extensions: new Dictionary<string, object?> { ["checks"] = checks });
    }

    private static async Task<bool> Try(Func<Task<bool>> check)
    {
        try
        {
            return await check();
        }
        catch (Exception)
        {
            // Any failure of a dependency means "not ready"; the reason is the dependency's, not ours.
            return false;
        }
    }
}

/// <summary>Health answer: <c>ok</c>/<c>ready</c> and the individual checks.</summary>
public sealed record HealthStatus(string Status, IReadOnlyDictionary<string, bool>? Checks);
