using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Optimizer.Domain.Webhooks;
using Optimizer.Worker.Tests.Support;
using Optimizer.Worker.Webhooks;

namespace Optimizer.Worker.Tests.Webhooks;

public sealed class WebhookPublisherTests
{
    [Fact]
    public async Task Publish_AddsNoDeliveryAndSendsOnce_WhenCalledAgainForTheSameJob()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var tenantId = await WebhookFlow.TenantAsync(harness.Services);
        await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "a");
        await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "b", WebhookEventTypes.JobSucceeded);
        var job = await WebhookFlow.FailedJobAsync(harness.Services, tenantId);

        await WebhookFlow.PublishAsync(harness.Services, job.Id);
        var first = await WebhookFlow.DeliveriesAsync(harness.Services, job.Id);
        // A re-run after a crash, or the Api and a worker racing, publishes the same terminal job again.
        await Task.WhenAll(WebhookFlow.PublishAsync(harness.Services, job.Id), WebhookFlow.PublishAsync(harness.Services, job.Id));

        var second = await WebhookFlow.DeliveriesAsync(harness.Services, job.Id);
        Assert.Equal(first.Select(d => (d.Id, d.MessageId)), second.Select(d => (d.Id, d.MessageId)));
        // Only the subscription that wants job.failed gets one.
        var delivery = Assert.Single(second);
        Assert.Equal((WebhookEventTypes.JobFailed, WebhookIds.Message(job.Id, WebhookEventTypes.JobFailed)), (delivery.EventType, delivery.MessageId));
        await harness.WaitForDeliveryAsync(delivery.Id, d => d.Status == WebhookDeliveryStatus.Succeeded);
        await Task.Delay(1000);
        Assert.Single(harness.Receiver.To("/a"));
        Assert.Empty(harness.Receiver.To("/b"));
    }

    [Fact]
    public async Task Publish_SignsNotifyDeliveryWithJobSecret_WhenJobHasNotifyUrl()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var tenantId = await WebhookFlow.TenantAsync(harness.Services);
        var job = await WebhookFlow.FailedJobAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "ci");

        await WebhookFlow.PublishAsync(harness.Services, job.Id);

        var request = (await harness.Receiver.WaitForAsync("/ci", 1))[0];
        Assert.True(WebhookVerifier.Verify(job.NotifySecret!, request.Headers["webhook-id"], request.Headers["webhook-timestamp"],
            request.Headers["webhook-signature"], request.Body));
        var delivery = Assert.Single(await WebhookFlow.DeliveriesAsync(harness.Services, job.Id));
        Assert.Null(delivery.SubscriptionId);
    }

    [Fact]
    public async Task Sweep_RequeuesOverdueDelivery_WhenItsQueueEntryWasLost()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var tenantId = await WebhookFlow.TenantAsync(harness.Services);
        var subscription = await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "lost");
        var job = await WebhookFlow.FailedJobAsync(harness.Services, tenantId);
        var at = job.FinishedAt!.Value;
        var id = WebhookIds.Delivery(job.Id, WebhookEventTypes.JobFailed, subscription.Id, at);
        await using (var db = harness.Services.NewDb())
        {
            // Stored but never queued: what a crash between insert and enqueue leaves behind.
            db.WebhookDeliveries.Add(new WebhookDelivery(id, WebhookIds.Message(job.Id, WebhookEventTypes.JobFailed), tenantId, job.Id,
                WebhookEventTypes.JobFailed, subscription.Url, subscription.Id, WebhookPayloads.ForJob(WebhookEventTypes.JobFailed, job, at)));
            await db.SaveChangesAsync();
            await db.WebhookDeliveries.Where(d => d.Id == id)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextRetryAt, DateTimeOffset.UtcNow.AddMinutes(-10)));
        }
        var sweeper = ActivatorUtilities.CreateInstance<WebhookSweeper>(harness.Services.Provider);

        var queued = await sweeper.SweepAsync(CancellationToken.None);

        Assert.Equal(1, queued);
        await harness.WaitForDeliveryAsync(id, d => d.Status == WebhookDeliveryStatus.Succeeded);
        Assert.Single(harness.Receiver.To("/lost"));
        Assert.Equal(0, await sweeper.SweepAsync(CancellationToken.None));
    }
}
