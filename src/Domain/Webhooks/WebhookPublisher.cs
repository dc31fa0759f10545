using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Persistence;

namespace Optimizer.Domain.Webhooks;

/// <summary>
/// Creates a terminal job's deliveries (its <c>job.*</c> event, plus <c>model.ready</c> and <c>report.ready</c> on
/// success, to every subscription that wants them; the <c>job.*</c> event to each <c>notify</c> URL) and queues them.
/// </summary>
/// <remarks>
/// Idempotent: delivery ids are derived from job, event and destination (<see cref="WebhookIds"/>) under a primary
/// key, so a second publication (a job re-run after a crash, the Api and a Worker racing) inserts and queues
/// nothing. Whoever ends a job writes the rows in the transaction of the terminal status (<see cref="AddDeliveriesAsync"/>,
/// an outbox) and queues them after the commit (<see cref="Queue"/>); rows whose queueing was lost with a crash are sent
/// by the Worker's sweep. <see cref="PublishAsync"/> (its own DbContext) never throws: every failure is logged.
/// </remarks>
public sealed partial class WebhookPublisher(DbContextOptions<OptimizerDbContext> dbOptions, IWebhookQueue queue,
    IOptions<WebhookOptions> options, ILogger<WebhookPublisher> logger) : IJobEventPublisher
{
    public async Task PublishAsync(string jobId, CancellationToken cancellationToken)
    {
        try
        {
            await using var db = new OptimizerDbContext(dbOptions);
            Queue(await AddDeliveriesAsync(db, jobId, cancellationToken));
        }
        catch (DbUpdateException ex) when (ex.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            // Another publisher of the same job won the race: its rows are the same messages, and it queues them.
        }
        catch (Exception ex)
        {
            LogPublishFailed(ex, jobId);
        }
    }

    public void Queue(IReadOnlyList<string> deliveryIds)
    {
        foreach (var id in deliveryIds)
        {
            try
            {
                queue.Enqueue(id, autoAttempt: 1);
            }
            catch (Exception ex)
            {
                LogEnqueueFailed(ex, id);
            }
        }
    }

    public async Task<IReadOnlyList<string>> AddDeliveriesAsync(OptimizerDbContext db, string jobId, CancellationToken cancellationToken)
    {
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, cancellationToken);
        if (job is null || WebhookEventTypes.ForStatus(job.Status) is not { } jobEvent)
        {
            return [];
        }
        var at = job.FinishedAt ?? DateTimeOffset.UtcNow;
        var events = new List<(string Type, string Payload)> { (jobEvent, WebhookPayloads.ForJob(jobEvent, job, at)) };
        if (job.Status == JobStatus.Succeeded)
        {
            await AddArtifactEventsAsync(db, job, at, events, cancellationToken);
        }
        var subscriptions = await db.WebhookSubscriptions.AsNoTracking()
            .Where(s => s.TenantId == job.TenantId && s.Enabled).ToListAsync(cancellationToken);
        var deliveries = new List<WebhookDelivery>();
        foreach (var (type, payload) in events)
        {
            var message = WebhookIds.Message(job.Id, type);
            foreach (var subscription in subscriptions.Where(s => s.Wants(type)))
            {
                deliveries.Add(new WebhookDelivery(WebhookIds.Delivery(job.Id, type, subscription.Id, at), message, job.TenantId,
                    job.Id, type, subscription.Url, subscription.Id, payload));
            }
            if (type == jobEvent && job.NotifySecret is not null)
            {
                foreach (var url in job.NotifyUrls.Distinct(StringComparer.Ordinal))
                {
                    deliveries.Add(new WebhookDelivery(WebhookIds.Delivery(job.Id, type, WebhookIds.Destination(null, url), at), message,
                        job.TenantId, job.Id, type, url, null, payload));
                }
            }
        }
        var ids = deliveries.Select(d => d.Id).ToList();
        var existing = await db.WebhookDeliveries.Where(d => ids.Contains(d.Id)).Select(d => d.Id).ToListAsync(cancellationToken);
        var fresh = deliveries.Where(d => !existing.Contains(d.Id)).ToList();
        if (fresh.Count == 0)
        {
            return [];
        }
        db.WebhookDeliveries.AddRange(fresh);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        finally
        {
            // The caller's context may live on (a runner's); the rows are saved or the save failed and is rethrown.
            foreach (var delivery in fresh)
            {
                db.Entry(delivery).State = EntityState.Detached;
            }
        }
        return [.. fresh.Select(d => d.Id)];
    }

    private async Task AddArtifactEventsAsync(OptimizerDbContext db, Job job, DateTimeOffset at, List<(string, string)> events,
        CancellationToken cancellationToken)
    {
        var baseUrl = options.Value.PublicBaseUrl;
        if (job.OutputModelId is not null
            && await db.Models.AsNoTracking().Include(m => m.Files).FirstOrDefaultAsync(m => m.Id == job.OutputModelId, cancellationToken) is { } model)
        {
            events.Add((WebhookEventTypes.ModelReady, WebhookPayloads.ForModel(model, at, baseUrl)));
        }
        if (job.ReportId is not null
            && await db.Reports.AsNoTracking().FirstOrDefaultAsync(r => r.Id == job.ReportId, cancellationToken) is { } report)
        {
            events.Add((WebhookEventTypes.ReportReady, WebhookPayloads.ForReport(report, at, baseUrl)));
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not publish the webhook events of job {JobId}")]
    private partial void LogPublishFailed(Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not queue webhook delivery {DeliveryId}; the Worker's sweep will send it")]
    private partial void LogEnqueueFailed(Exception exception, string deliveryId);
}
