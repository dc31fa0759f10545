using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Telemetry;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Worker.Webhooks;

/// <summary>
/// Re-queues pending deliveries whose next attempt is overdue: the ones whose enqueue failed, or whose scheduled
/// Hangfire job was lost. Harmless when nothing was lost: the sender's claim lets only one job make an attempt.
/// </summary>
public sealed partial class WebhookSweeper(IServiceScopeFactory scopes, IWebhookQueue queue, ILogger<WebhookSweeper> logger) : BackgroundService
{
    /// <summary>How late an attempt must be before the sweep steps in (scheduled jobs fire within seconds).</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan s_interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var logScope = logger.BeginBackgroundScope("webhook-sweep");
        using var timer = new PeriodicTimer(s_interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogSweepFailed(ex);
            }
        }
    }

    /// <summary>Queues the next automatic attempt of every overdue pending delivery; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OptimizerDbContext>();
        var due = DateTimeOffset.UtcNow - Grace;
        var overdue = await db.WebhookDeliveries.AsNoTracking()
            .Where(d => d.Status == WebhookDeliveryStatus.Pending && d.NextRetryAt < due)
            .OrderBy(d => d.NextRetryAt).Take(500)
            .Select(d => new { d.Id, d.AutoAttempts })
            .ToListAsync(cancellationToken);
        foreach (var delivery in overdue)
        {
            queue.Enqueue(delivery.Id, delivery.AutoAttempts + 1);
        }
        return overdue.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook sweep failed; retrying at the next tick")]
    private partial void LogSweepFailed(Exception exception);
}
