using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Tenancy;
using Optimizer.Domain.Webhooks;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Webhooks;

/// <summary>Seeds tenants, subscriptions and finished jobs for the webhook tests, and publishes their events.</summary>
internal static class WebhookFlow
{
    public static async Task<string> TenantAsync(WorkerServices services)
    {
        await using var db = services.NewDb();
        var tenant = new Tenant("hooks");
        db.Tenants.Add(tenant);
        await db.SaveChangesAsync();
        return tenant.Id;
    }

    /// <summary>A subscription stored directly (the Api's create-time URL check is tested in the Api tests).</summary>
    public static async Task<WebhookSubscription> SubscribeAsync(WorkerServices services, string tenantId, string url, params string[] events)
    {
        await using var db = services.NewDb();
        var subscription = new WebhookSubscription(tenantId, url, events.Length == 0 ? WebhookEventTypes.All : events, "test");
        db.WebhookSubscriptions.Add(subscription);
        await db.SaveChangesAsync();
        return subscription;
    }

    /// <summary>A job that ran and failed, as the runner leaves it.</summary>
    public static async Task<Job> FailedJobAsync(WorkerServices services, string tenantId, params string[] notify)
    {
        await using var db = services.NewDb();
        var job = new Job(tenantId, "quantize", "rtn", "{}")
        {
            ModelId = "mdl_x",
            NotifyUrls = [.. notify],
            NotifySecret = notify.Length > 0 ? WebhookSecret.New() : null,
        };
        job.MarkRunning();
        job.MarkFailed("invalid_model", "No such model.");
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return job;
    }

    public static async Task PublishAsync(WorkerServices services, string jobId)
    {
        await using var scope = services.Provider.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IJobEventPublisher>().PublishAsync(jobId, CancellationToken.None);
    }

    public static async Task<List<WebhookDelivery>> DeliveriesAsync(WorkerServices services, string jobId)
    {
        await using var db = services.NewDb();
        return await db.WebhookDeliveries.AsNoTracking().Where(d => d.JobId == jobId).OrderBy(d => d.Id).ToListAsync();
    }

    public static async Task<List<WebhookAttempt>> AttemptsAsync(WorkerServices services, string deliveryId)
    {
        await using var db = services.NewDb();
        return await db.WebhookAttempts.AsNoTracking().Where(a => a.DeliveryId == deliveryId).OrderBy(a => a.Id).ToListAsync();
    }
}
