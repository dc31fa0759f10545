using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Optimizer.Bench;

/// <summary>
/// Bounded load on loopback: <c>submissions</c> job submissions from <c>concurrency</c> clients, each accepted job read
/// back once, then every job still queued cancelled (so the run ends in minutes) and every accepted job waited for until
/// terminal. Prints submission throughput, p50/p95/p99 latency of submissions and reads, 429s (deliberate: rate and
/// active-job limits) apart from other errors, and how the accepted jobs ended.
/// </summary>
internal static class LoadBenchmark
{
    public static async Task RunAsync(HttpClient client, JsonObject fixture, int submissions, int concurrency)
    {
        var submitMs = new ConcurrentBag<double>();
        var readMs = new ConcurrentBag<double>();
        var accepted = new ConcurrentBag<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < submissions)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.PostAsJsonAsync("/v1/jobs", new
                {
                    type = "quantize",
                    method = "rtn",
                    model_id = fixture["id"]!.GetValue<string>(),
                    @params = new { bits = 8 },
                    name = "bench-load",
                });
                submitMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    continue;
                }
                var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
                accepted.Add(id);
                var read = Stopwatch.GetTimestamp();
                using var get = await client.GetAsync($"/v1/jobs/{id}");
                readMs.Add(Stopwatch.GetElapsedTime(read).TotalMilliseconds);
                statuses.AddOrUpdate(get.StatusCode == HttpStatusCode.OK ? 200 : (int)get.StatusCode, 1, (_, n) => n + 1);
            }
        }));
        var elapsed = clock.Elapsed.TotalSeconds;

        // Bound the run: what has not started yet is cancelled at once (queued → cancelled).
        foreach (var id in accepted)
        {
            using var cancel = await client.PostAsync($"/v1/jobs/{id}/cancel", null);
        }
        var ended = await WaitTerminalAsync(client, accepted, TimeSpan.FromMinutes(10));

        Console.WriteLine($"## Load: {submissions} submissions from {concurrency} concurrent clients (loopback)");
        Console.WriteLine($"submissions/s {submissions / elapsed:F0} ({elapsed:F1} s); responses: "
            + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}")));
        Console.WriteLine($"POST /v1/jobs latency ms: {Percentiles(submitMs)}");
        Console.WriteLine($"GET /v1/jobs/{{id}} latency ms: {Percentiles(readMs)}");
        var errors = statuses.Where(s => s.Key is not (202 or 200 or 429)).Sum(s => s.Value);
        Console.WriteLine($"errors other than 429: {errors}; accepted {accepted.Count}; ended: "
            + string.Join(", ", ended.GroupBy(j => j.Status).Select(g => $"{g.Key} {g.Count()}"))
            + $"; not terminal {accepted.Count - ended.Count}; run more than once {ended.Count(j => j.Attempts > 1)}");
        Console.WriteLine();
    }

    private static async Task<List<(string Status, int Attempts)>> WaitTerminalAsync(HttpClient client, IEnumerable<string> ids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var pending = ids.ToHashSet();
        var ended = new List<(string, int)>();
        while (pending.Count > 0 && DateTime.UtcNow < deadline)
        {
            foreach (var id in pending.ToList())
            {
                var job = (await client.GetFromJsonAsync<JsonObject>($"/v1/jobs/{id}"))!;
                var status = job["status"]!.GetValue<string>();
                if (status is "succeeded" or "failed" or "cancelled")
                {
                    ended.Add((status, job["attempts"]!.GetValue<int>()));
                    pending.Remove(id);
                }
            }
            if (pending.Count > 0)
            {
                await Task.Delay(1000);
            }
        }
        return ended;
    }

    private static string Percentiles(ConcurrentBag<double> samples)
    {
        if (samples.IsEmpty)
        {
            return "none";
        }
        var sorted = samples.Order().ToList();
        double At(double q) => sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
        return $"p50 {At(0.50):F1}, p95 {At(0.95):F1}, p99 {At(0.99):F1}, max {sorted[^1]:F1} (n {sorted.Count})";
    }
}
