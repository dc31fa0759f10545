using System.Diagnostics.Metrics;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Routing;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Domain.Telemetry;

/// <summary>
/// Gauges of the whole deployment, read from the shared stores at scrape time: <c>optimizer.jobs</c> (jobs by state,
/// from the jobs table), <c>optimizer.queue.depth</c> (enqueued Hangfire jobs per queue, from its monitoring API) and
/// <c>optimizer.queue.workers</c> (live worker processes serving each queue, <see cref="QueueServers"/>): a queue with a
/// depth and no workers is work that waits for a worker nobody runs.
/// </summary>
/// <remarks>
/// Read from the database rather than counted in memory, the numbers are right however many workers and Api replicas
/// run and however often they restart; every replica that exports them reports the same value (aggregate with
/// <c>max</c>, not <c>sum</c>). One <c>GROUP BY status</c> (indexed) and one queue listing per collection, cached for
/// a few seconds so that several readers (Prometheus and OTLP) share one read. A store that does not answer yields
/// no points rather than an error in the scrape.
/// </remarks>
public sealed class ClusterGauges
{
    /// <summary>Queues reported even while empty, so a dashboard sees a 0 rather than a gap.</summary>
    private static readonly string[] s_knownQueues = ["cpu", "gpu", IWebhookQueue.QueueName];

    private static readonly TimeSpan s_cacheFor = TimeSpan.FromSeconds(5);

    private readonly IServiceScopeFactory _scopes;
    private readonly JobStorage _storage;
    private readonly QueueServers _servers;
    private readonly IReadOnlySet<string> _routedQueues;
    private readonly Lock _lock = new();
    private (DateTime At, List<Measurement<long>> Points)? _jobs;
    private (DateTime At, List<Measurement<long>> Points)? _queues;

    /// <summary><paramref name="routes"/>: the Api's routing, so a queue jobs are routed to is reported (as 0) before any worker serves it.</summary>
    public ClusterGauges(OptimizerMetrics metrics, IServiceScopeFactory scopes, JobStorage storage, QueueServers servers,
        MethodQueueRoutes? routes = null)
    {
        _scopes = scopes;
        _storage = storage;
        _servers = servers;
        _routedQueues = routes?.RoutedQueues ?? new HashSet<string>();
        metrics.Meter.CreateObservableGauge("optimizer.jobs", () => Cached(ref _jobs, ReadJobs), "{job}",
            "Jobs by state (queued, running, cancelling, succeeded, failed, cancelled), from the jobs table.");
        metrics.Meter.CreateObservableGauge("optimizer.queue.depth", () => Cached(ref _queues, ReadQueues), "{job}",
            "Hangfire jobs waiting in each queue (enqueued, not yet fetched by a worker).");
        metrics.Meter.CreateObservableGauge("optimizer.queue.workers", ReadWorkers, "{process}",
            "Worker processes serving each queue (Hangfire servers with a heartbeat in the last 2 minutes).");
    }

    private List<Measurement<long>> Cached(ref (DateTime At, List<Measurement<long>> Points)? cache, Func<List<Measurement<long>>> read)
    {
        lock (_lock)
        {
            if (cache is { } hit && DateTime.UtcNow - hit.At < s_cacheFor)
            {
                return hit.Points;
            }
            List<Measurement<long>> points;
            try
            {
                points = read();
            }
            catch (Exception)
            {
                // PostgreSQL down: no points this time (the readiness probe reports the outage, not the scrape).
                points = [];
            }
            cache = (DateTime.UtcNow, points);
            return points;
        }
    }

    private List<Measurement<long>> ReadJobs()
    {
        using var scope = _scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<OptimizerDbContext>();
        var counts = db.Jobs.AsNoTracking().GroupBy(j => j.Status).Select(g => new { Status = g.Key, Count = g.LongCount() })
            .ToDictionary(c => c.Status, c => c.Count);
        return [.. Enum.GetValues<JobStatus>().Select(s =>
            new Measurement<long>(counts.GetValueOrDefault(s), new KeyValuePair<string, object?>("state", s.ToWire())))];
    }

    private List<Measurement<long>> ReadQueues()
    {
        var lengths = _storage.GetMonitoringApi().Queues().ToDictionary(q => q.Name, q => q.Length);
        return PerQueue(lengths);
    }

    /// <summary>Cached by <see cref="QueueServers"/> itself; no points while Hangfire's storage does not answer.</summary>
    private List<Measurement<long>> ReadWorkers()
    {
        if (_servers.Counts() is not { } counts)
        {
            return [];
        }
        return PerQueue(counts.ToDictionary(c => c.Key, c => (long)c.Value));
    }

    /// <summary>One point per queue that is known, routed to or reported: absent ones as 0, so a dashboard sees no gap.</summary>
    private List<Measurement<long>> PerQueue(IReadOnlyDictionary<string, long> values) =>
        [.. s_knownQueues.Union(_routedQueues).Union(values.Keys).Order(StringComparer.Ordinal).Select(q =>
            new Measurement<long>(values.GetValueOrDefault(q), new KeyValuePair<string, object?>("queue", q)))];
}
