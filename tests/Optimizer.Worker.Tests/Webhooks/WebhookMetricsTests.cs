using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Optimizer.Domain.Telemetry;
using Optimizer.Domain.Webhooks;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Webhooks;

public sealed class WebhookMetricsTests
{
    [Fact]
    public async Task Send_CountsAndTimesEachAttempt_ByEventAndOutcome()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var counted = new ConcurrentQueue<(string Event, string Outcome)>();
        var timed = new ConcurrentQueue<double>();
        // Only this harness's meter: the factory scopes it, so parallel tests in this process do not count here.
        var factory = harness.Get<IMeterFactory>();
        _ = harness.Get<OptimizerMetrics>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Meter.Name == OptimizerMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            var t = tags.ToArray().ToDictionary(p => p.Key, p => p.Value as string);
            counted.Enqueue((t["event"]!, t["outcome"]!));
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => timed.Enqueue(value));
        listener.Start();
        harness.Receiver.Answer(500);
        var tenantId = await WebhookFlow.TenantAsync(harness.Services);
        await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "metrics", WebhookEventTypes.JobFailed);
        var job = await WebhookFlow.FailedJobAsync(harness.Services, tenantId);

        await WebhookFlow.PublishAsync(harness.Services, job.Id);

        var delivery = (await WebhookFlow.DeliveriesAsync(harness.Services, job.Id)).Single();
        var done = await harness.WaitForDeliveryAsync(delivery.Id, d => d.Status != WebhookDeliveryStatus.Pending);
        Assert.Equal(WebhookDeliveryStatus.Succeeded, done.Status);
        Assert.Equal([("job.failed", "rejected"), ("job.failed", "delivered")], counted.ToArray());
        Assert.Equal(2, timed.Count);
        Assert.All(timed, seconds => Assert.InRange(seconds, 0, 10));
    }
}
