using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Optimizer.Domain.Telemetry;

/// <summary>
/// The service's own instruments on the <c>Optimizer</c> meter: job attempt durations and webhook attempts. The
/// cluster-wide gauges (jobs by state, queue depth) are <see cref="ClusterGauges"/>.
/// </summary>
/// <remarks>
/// Created through <see cref="IMeterFactory"/>, so the meter belongs to one host's container and dies with it: several
/// hosts in one process (the tests) do not report into each other's providers. Tags are closed sets (type, method,
/// status, event, outcome); never a tenant or job id, which would make a series per job and leak tenants to a scrape.
/// </remarks>
public sealed class OptimizerMetrics
{
    public const string MeterName = "Optimizer";

    /// <summary>Job attempts last seconds to hours: buckets up to a day.</summary>
    private static readonly double[] s_jobBuckets = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400];

    /// <summary>A webhook attempt is one HTTP round trip bounded by its timeout (10 s by default).</summary>
    private static readonly double[] s_webhookBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly Histogram<double> _jobDuration;
    private readonly Counter<long> _webhookDeliveries;
    private readonly Histogram<double> _webhookDuration;

    public OptimizerMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        _jobDuration = Meter.CreateHistogram("optimizer.job.duration", "s",
            "Duration of one job attempt on a worker, from its claim to its end.", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = s_jobBuckets });
        _webhookDeliveries = Meter.CreateCounter<long>("optimizer.webhook.deliveries", "{attempt}",
            "Webhook delivery attempts by event type and outcome.");
        _webhookDuration = Meter.CreateHistogram("optimizer.webhook.delivery.duration", "s",
            "Duration of one webhook delivery attempt (the HTTP round trip).", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = s_webhookBuckets });
    }

    /// <summary>The meter, for instruments registered elsewhere (<see cref="ClusterGauges"/>).</summary>
    public Meter Meter { get; }

    /// <summary>
    /// Records how one attempt ended: <paramref name="status"/> is the job's final status (<c>succeeded</c>, <c>failed</c>,
    /// <c>cancelled</c>), <c>requeued</c> (handed back on shutdown) or <c>lost</c> (another attempt owns the job).
    /// </summary>
    public void JobAttemptEnded(string type, string method, string status, TimeSpan elapsed) =>
        _jobDuration.Record(elapsed.TotalSeconds, new TagList { { "type", type }, { "method", method }, { "status", status } });

    /// <summary>Records one delivery attempt; <paramref name="elapsed"/> is null when no request was sent.</summary>
    public void WebhookAttempted(string eventType, string outcome, TimeSpan? elapsed)
    {
        var tags = new TagList { { "event", eventType }, { "outcome", outcome } };
        _webhookDeliveries.Add(1, tags);
        if (elapsed is { } duration)
        {
            _webhookDuration.Record(duration.TotalSeconds, tags);
        }
    }
}
