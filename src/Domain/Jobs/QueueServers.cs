using Hangfire;

namespace Optimizer.Domain.Jobs;

/// <summary>
/// How many live Hangfire servers (one per worker process and queue set) serve each queue, read from Hangfire's server list
/// in PostgreSQL: the Api uses it to say when a job lands on a queue nobody serves, where it would wait silently.
/// </summary>
/// <remarks>
/// A server counts while its heartbeat (every 30 s) is under <see cref="Stale"/> old: Hangfire itself removes a dead
/// server only after its 5-minute server timeout. Read at most every few seconds; a store that does not answer yields null.
/// </remarks>
public sealed class QueueServers(JobStorage storage)
{
    /// <summary>Four missed heartbeats: the process is gone or cut off.</summary>
    public static readonly TimeSpan Stale = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan s_cacheFor = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private (DateTime At, IReadOnlyDictionary<string, int>? Counts)? _cache;

    /// <summary>Live servers per queue (queues without one are absent), or null when Hangfire's storage does not answer.</summary>
    public IReadOnlyDictionary<string, int>? Counts()
    {
        lock (_lock)
        {
            if (_cache is { } hit && DateTime.UtcNow - hit.At < s_cacheFor)
            {
                return hit.Counts;
            }
            IReadOnlyDictionary<string, int>? counts;
            try
            {
                counts = Read();
            }
            catch (Exception)
            {
                // PostgreSQL down: unknown, which is not "nobody serves it" (the readiness probe reports the outage).
                counts = null;
            }
            _cache = (DateTime.UtcNow, counts);
            return counts;
        }
    }

    private Dictionary<string, int> Read()
    {
        var since = DateTime.UtcNow - Stale;
        return storage.GetMonitoringApi().Servers()
            .Where(s => s.Heartbeat is { } beat && beat >= since)
            .SelectMany(s => s.Queues.Distinct())
            .GroupBy(q => q)
            .ToDictionary(g => g.Key, g => g.Count());
    }
}
