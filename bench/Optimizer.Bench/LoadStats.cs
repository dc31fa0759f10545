using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Optimizer.Bench;

/// <summary>Latencies and status codes per endpoint of the load test, thread-safe.</summary>
internal sealed class LoadStats
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<double>> _latencies = new();
    private readonly ConcurrentDictionary<(string Endpoint, int Status), int> _statuses = new();

    /// <summary>Sends one request and records its latency and status under <paramref name="endpoint"/>.</summary>
    public async Task<HttpResponseMessage> TimeAsync(string endpoint, Func<Task<HttpResponseMessage>> send)
    {
        var started = Stopwatch.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            response = await send();
        }
        catch (HttpRequestException)
        {
            // No answer at all (connection refused or reset): an error, recorded as status 0.
            _statuses.AddOrUpdate((endpoint, 0), 1, (_, n) => n + 1);
            throw;
        }
        _latencies.GetOrAdd(endpoint, _ => []).Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        _statuses.AddOrUpdate((endpoint, (int)response.StatusCode), 1, (_, n) => n + 1);
        return response;
    }

    /// <summary>429s: deliberate refusals by the rate or active-job limits, not errors.</summary>
    public int Throttled => _statuses.Where(s => s.Key.Status == (int)HttpStatusCode.TooManyRequests).Sum(s => s.Value);

    /// <summary>Answers that are neither a success, a 429, nor an expected 409 (cancelling a job that already ended).</summary>
    public int Errors => _statuses.Where(s => s.Key.Status is not (>= 200 and < 300) and not 429
        && !(s.Key.Endpoint == LoadBenchmark.CancelEndpoint && s.Key.Status == 409)).Sum(s => s.Value);

    /// <summary>A Markdown table: endpoint, requests, p50/p99/max latency, answers by status.</summary>
    public IEnumerable<string> Table()
    {
        yield return "| endpoint | requests | p50 ms | p99 ms | max ms | answers |";
        yield return "|---|---:|---:|---:|---:|---|";
        foreach (var (endpoint, samples) in _latencies.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var sorted = samples.Order().ToList();
            double At(double q) => sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
            var answers = string.Join(", ", _statuses.Where(s => s.Key.Endpoint == endpoint).OrderBy(s => s.Key.Status)
                .Select(s => $"{s.Key.Status}×{s.Value}"));
            yield return $"| `{endpoint}` | {sorted.Count} | {At(0.50):F1} | {At(0.99):F1} | {sorted[^1]:F1} | {answers} |";
        }
    }
}
