using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Optimizer.Bench;

/// <summary>
/// Bounded load on loopback against a real Api and worker: <c>submissions</c> job submissions from <c>concurrency</c>
/// clients, each accepted job read back, plus a list and an events read every tenth submission; then every job not yet
/// ended is cancelled (queued ones end at once, so the run takes minutes) and every accepted job is waited for. Reports
/// p50/p99 latency per endpoint, 429s (deliberate: rate and active-job limits) apart from errors, and checks that every
/// accepted job ended exactly once: one terminal event, one delivery per job and event to a loopback subscription, and
/// each <c>webhook-id</c> received once.
/// </summary>
internal static class LoadBenchmark
{
    public const string CancelEndpoint = "POST /v1/jobs/{id}/cancel";

    private static readonly string[] Terminal = ["succeeded", "failed", "cancelled"];

    public static async Task<int> RunAsync(HttpClient client, JsonObject fixture, int submissions, int concurrency)
    {
        using var sink = new LoadSink();
        var hook = await client.PostAsJsonAsync("/v1/webhooks", new { url = sink.Url + "load" });
        var hookId = (await Read(hook))["id"]!.GetValue<string>();
        var stats = new LoadStats();
        var accepted = new ConcurrentBag<string>();
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < submissions)
            {
                using var response = await stats.TimeAsync("POST /v1/jobs", () => client.PostAsJsonAsync("/v1/jobs", new
                {
                    type = "quantize",
                    method = "rtn",
                    model_id = fixture["id"]!.GetValue<string>(),
                    @params = new { bits = 8 },
                    name = "bench-load",
                }));
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    continue;
                }
                var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
                accepted.Add(id);
                (await stats.TimeAsync("GET /v1/jobs/{id}", () => client.GetAsync($"/v1/jobs/{id}"))).Dispose();
                if (i % 10 == 0)
                {
                    (await stats.TimeAsync("GET /v1/jobs", () => client.GetAsync("/v1/jobs?limit=20"))).Dispose();
                    (await stats.TimeAsync("GET /v1/jobs/{id}/events", () => client.GetAsync($"/v1/jobs/{id}/events"))).Dispose();
                }
            }
        }));
        var submitSeconds = clock.Elapsed.TotalSeconds;

        // Bound the run: what has not started yet is cancelled at once (queued → cancelled); a finished job answers 409.
        await ForEachAsync(accepted, concurrency, async id =>
            (await stats.TimeAsync(CancelEndpoint, () => client.PostAsync($"/v1/jobs/{id}/cancel", null))).Dispose());
        var ended = await WaitTerminalAsync(client, accepted, concurrency, TimeSpan.FromMinutes(15));
        var drainSeconds = clock.Elapsed.TotalSeconds - submitSeconds;

        Console.WriteLine($"## Load: {submissions} submissions from {concurrency} concurrent clients (loopback)");
        Console.WriteLine();
        Console.WriteLine($"Submission phase {submitSeconds:F1} s ({submissions / submitSeconds:F0} submissions/s); cancel + drain {drainSeconds:F1} s.");
        Console.WriteLine();
        foreach (var line in stats.Table())
        {
            Console.WriteLine(line);
        }
        Console.WriteLine();
        var problems = new List<string>();
        if (stats.Errors > 0)
        {
            problems.Add($"{stats.Errors} error answer(s)");
        }
        Console.WriteLine($"errors (besides 429 and 409 on cancelling an ended job): {stats.Errors}; 429 (deliberate limits): {stats.Throttled}");
        Console.WriteLine($"accepted {accepted.Count}; ended: "
            + string.Join(", ", ended.Values.GroupBy(j => j.Status).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))
            + $"; not terminal {accepted.Count - ended.Count}; run more than once {ended.Values.Count(j => j.Attempts > 1)}");
        if (ended.Count != accepted.Count || ended.Values.Any(j => j.Attempts > 1))
        {
            problems.Add("a job did not end, or ran more than once");
        }
        problems.AddRange(await CheckExactlyOnceAsync(client, sink, hookId, ended, concurrency));
        Console.WriteLine(problems.Count == 0 ? "exactly once: OK" : "FAILED: " + string.Join("; ", problems));
        Console.WriteLine();
        return problems.Count == 0 ? 0 : 1;
    }

    /// <summary>One terminal event per job, one delivery per job and event, each webhook-id received once.</summary>
    private static async Task<List<string>> CheckExactlyOnceAsync(HttpClient client, LoadSink sink, string hookId,
        IReadOnlyDictionary<string, (string Status, int Attempts)> ended, int concurrency)
    {
        var problems = new List<string>();
        var terminalEvents = new ConcurrentDictionary<string, int>();
        await ForEachAsync(ended.Keys, concurrency, async id =>
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            int count;
            do
            {
                // The terminal event is written just after the final status: give it a moment.
                var page = await client.GetFromJsonAsync<JsonObject>($"/v1/jobs/{id}/events?limit=100");
                count = page!["data"]!.AsArray().Count(e => e!["stage"]!.GetValue<string>() is "done" or "failed" or "cancelled");
            }
            while (count == 0 && DateTime.UtcNow < deadline && await Delay());
            terminalEvents[id] = count;
        });
        var wrongEvents = terminalEvents.Count(e => e.Value != 1);
        Console.WriteLine($"terminal events per job: 1 for {terminalEvents.Count - wrongEvents} job(s), other for {wrongEvents}");
        if (wrongEvents > 0)
        {
            problems.Add($"{wrongEvents} job(s) without exactly one terminal event");
        }

        var expected = ended.SelectMany(j => Expected(j.Value.Status).Select(e => (j.Key, e))).ToHashSet();
        var deliveries = await DeliveriesAsync(client, hookId);
        var perEvent = deliveries.GroupBy(d => d).ToDictionary(g => g.Key, g => g.Count());
        var duplicated = perEvent.Count(p => p.Value > 1);
        var missing = expected.Count(e => !perEvent.ContainsKey(e));
        var unexpected = perEvent.Keys.Count(k => !expected.Contains(k));
        Console.WriteLine($"webhook deliveries: {deliveries.Count} for {expected.Count} expected job events; duplicated {duplicated}, missing {missing}, unexpected {unexpected}");
        if (duplicated + missing + unexpected > 0)
        {
            problems.Add("deliveries per job and event are not exactly one");
        }

        var wait = Stopwatch.StartNew();
        while (sink.Total < deliveries.Count && wait.Elapsed < TimeSpan.FromMinutes(5))
        {
            await Task.Delay(500);
        }
        await Task.Delay(TimeSpan.FromSeconds(2));
        var twice = sink.Received.Count(r => r.Value > 1);
        Console.WriteLine($"webhooks received: {sink.Total} ({sink.Received.Count} distinct webhook-id) in {wait.Elapsed.TotalSeconds:F0} s after the drain; received more than once: {twice}");
        if (sink.Received.Count != deliveries.Count || twice > 0)
        {
            problems.Add("the receiver did not get each webhook-id exactly once");
        }
        return problems;
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(500);
        return true;
    }

    private static string[] Expected(string status) => status switch
    {
        "succeeded" => ["job.succeeded", "model.ready"],
        "failed" => ["job.failed"],
        _ => ["job.cancelled"],
    };

    private static async Task<List<(string JobId, string Event)>> DeliveriesAsync(HttpClient client, string hookId)
    {
        var all = new List<(string, string)>();
        string? after = null;
        while (true)
        {
            var page = (await client.GetFromJsonAsync<JsonObject>($"/v1/webhooks/{hookId}/deliveries?limit=100" + (after is null ? "" : $"&after={after}")))!;
            var data = page["data"]!.AsArray();
            all.AddRange(data.Select(d => (d!["job_id"]!.GetValue<string>(), d["event"]!.GetValue<string>())));
            if (data.Count == 0 || page["has_more"]?.GetValue<bool>() != true)
            {
                return all;
            }
            after = data[^1]!["id"]!.GetValue<string>();
        }
    }

    private static async Task<Dictionary<string, (string Status, int Attempts)>> WaitTerminalAsync(HttpClient client,
        IEnumerable<string> ids, int concurrency, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var ended = new ConcurrentDictionary<string, (string, int)>();
        var pending = ids.ToList();
        while (pending.Count > 0 && DateTime.UtcNow < deadline)
        {
            await ForEachAsync(pending, concurrency, async id =>
            {
                var job = (await client.GetFromJsonAsync<JsonObject>($"/v1/jobs/{id}"))!;
                var status = job["status"]!.GetValue<string>();
                if (Terminal.Contains(status))
                {
                    ended[id] = (status, job["attempts"]!.GetValue<int>());
                }
            });
            pending = [.. pending.Where(id => !ended.ContainsKey(id))];
            if (pending.Count > 0)
            {
                await Task.Delay(1000);
            }
        }
        return new Dictionary<string, (string, int)>(ended);
    }

    private static Task ForEachAsync(IEnumerable<string> items, int concurrency, Func<string, Task> action) =>
        Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (item, _) => await action(item));

    private static async Task<JsonObject> Read(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {body}");
        }
        return JsonNode.Parse(body)!.AsObject();
    }
}
