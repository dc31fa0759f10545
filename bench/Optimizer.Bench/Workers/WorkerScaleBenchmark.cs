using System.Globalization;
using System.Text.Json.Nodes;

namespace Optimizer.Bench.Workers;

/// <summary>
/// Throughput of 1, 2, 4… worker processes on this machine: for each count a fresh deployment (database, Api, workers on
/// the same queues) runs the same batch of 8-bit RTN jobs on the fixture model, submitted at once. Jobs per minute is
/// the batch over its makespan (first <c>created_at</c> to last <c>finished_at</c>); the latency is submit to finish per
/// job, the run time claim to finish. Every job must succeed in exactly one attempt.
/// </summary>
internal static class WorkerScaleBenchmark
{
    public static async Task<int> RunAsync(WorkerBenchSettings settings)
    {
        Console.WriteLine($"# Many workers on one machine — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
        Console.WriteLine($"batch: {settings.Jobs} × quantize/rtn (bits 8) on the fixture model; logs in {settings.LogDir}");
        Console.WriteLine();
        var rows = new List<string>();
        foreach (var workers in settings.WorkerCounts)
        {
            await using var deployment = await BenchDeployment.StartAsync(settings, workers);
            var api = new ServiceApi(deployment.Client);
            var model = await api.UploadFolderAsync(Path.Combine(settings.FixtureDir, "model"), "bench-fixture");
            var loadBefore = LoadAverage();
            var ids = new List<string>();
            for (var i = 0; i < settings.Jobs; i++)
            {
                var job = await api.SubmitAsync(new
                {
                    type = "quantize",
                    method = "rtn",
                    model_id = model["id"]!.GetValue<string>(),
                    @params = new { bits = 8 },
                    name = $"bench-workers-{i}",
                });
                ids.Add(job["id"]!.GetValue<string>());
            }
            var done = new List<JsonObject>();
            foreach (var id in ids)
            {
                done.Add(await api.WaitAsync(id, _ => false));
            }
            var row = Row(workers, done, loadBefore, LoadAverage());
            Console.WriteLine(row);
            rows.Add(row);
        }
        Console.WriteLine();
        Console.WriteLine("| workers | jobs | makespan (s) | jobs/min | p50 latency (s) | p50 run (s) | load avg 1 min (start → end) |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        rows.ForEach(Console.WriteLine);
        return 0;
    }

    private static string Row(int workers, List<JsonObject> jobs, string loadBefore, string loadAfter)
    {
        var bad = jobs.Where(j => j["status"]!.GetValue<string>() != "succeeded" || j["attempts"]!.GetValue<int>() != 1).ToList();
        if (bad.Count > 0)
        {
            throw new InvalidOperationException($"{bad.Count} job(s) did not succeed in one attempt, e.g. {bad[0].ToJsonString()}");
        }
        DateTimeOffset At(JsonObject job, string field) => job[field]!.GetValue<DateTimeOffset>();
        var makespan = (jobs.Max(j => At(j, "finished_at")) - jobs.Min(j => At(j, "created_at"))).TotalSeconds;
        var latency = Median(jobs.Select(j => (At(j, "finished_at") - At(j, "created_at")).TotalSeconds));
        var run = Median(jobs.Select(j => (At(j, "finished_at") - At(j, "started_at")).TotalSeconds));
        return string.Create(CultureInfo.InvariantCulture,
            $"| {workers} | {jobs.Count} | {makespan:F1} | {jobs.Count / makespan * 60:F1} | {latency:F1} | {run:F1} | {loadBefore} → {loadAfter} |");
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The 1-minute load average (the machine is shared: the number says how much else was running).</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
