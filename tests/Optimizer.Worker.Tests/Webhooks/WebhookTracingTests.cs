using System.Diagnostics;
using Optimizer.Domain.Telemetry;
using Optimizer.Domain.Webhooks;
using Optimizer.Tests.Shared;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Webhooks;

/// <summary>A delivery's <c>webhook.deliver</c> span joins the trace of the request that submitted its job.</summary>
public sealed class WebhookTracingTests
{
    [Fact]
    public async Task Send_StartsWebhookDeliverAsAChildOfTheSubmittingRequest()
    {
        var parent = ActivityContext.Parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", null);
        var spans = await DeliverTracedAsync($"00-{parent.TraceId}-{parent.SpanId}-01");

        var deliver = Assert.Single(spans);
        Assert.Equal(parent.TraceId, deliver.TraceId);
        Assert.Equal(parent.SpanId, deliver.ParentSpanId);
        Assert.Equal(ActivityKind.Client, deliver.Kind);
        Assert.Equal("job.failed", deliver.GetTagItem("optimizer.webhook.event"));
    }

    [Fact]
    public async Task Send_StartsARootSpan_WhenTheJobCarriesNoTraceParent()
    {
        var spans = await DeliverTracedAsync(null);

        var deliver = Assert.Single(spans);
        Assert.Equal(default, deliver.ParentSpanId);
        Assert.Null(deliver.ParentId);
    }

    /// <summary>Delivers one job.failed event of a job whose row holds <paramref name="traceParent"/>; returns its webhook.deliver spans.</summary>
    private static async Task<List<Activity>> DeliverTracedAsync(string? traceParent)
    {
        await using var harness = await WebhookHarness.StartAsync();
        using var recorder = new SpanRecorder(OptimizerActivities.SourceName);
        var tenantId = await WebhookFlow.TenantAsync(harness.Services);
        await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "traced", WebhookEventTypes.JobFailed);
        var job = await WebhookFlow.FailedJobAsync(harness.Services, tenantId);
        await using (var db = harness.Services.NewDb())
        {
            db.Jobs.Attach(job);
            job.TraceParent = traceParent;
            await db.SaveChangesAsync();
        }

        await WebhookFlow.PublishAsync(harness.Services, job.Id);

        var delivery = (await WebhookFlow.DeliveriesAsync(harness.Services, job.Id)).Single();
        var done = await harness.WaitForDeliveryAsync(delivery.Id, d => d.Status != WebhookDeliveryStatus.Pending);
        Assert.Equal(WebhookDeliveryStatus.Succeeded, done.Status);
        return [.. recorder.OfJob(job.Id).Where(a => a.OperationName == "webhook.deliver")];
    }
}
