using System.Text.Json.Nodes;

namespace Optimizer.Bench;

/// <summary>Submit → running latency: the job's own <c>created_at</c> to <c>started_at</c>, both stamped by the service.</summary>
internal static class DispatchBenchmark
{
    public static async Task RunAsync(ServiceApi api, JsonObject fixture, BenchSettings settings)
    {
        var samples = new List<double>();
        for (var i = 0; i < settings.DispatchSamples; i++)
        {
            var job = await api.SubmitAsync(new
            {
                type = "quantize",
                method = "rtn",
                model_id = fixture["id"]!.GetValue<string>(),
                @params = new { bits = 8 },
                name = $"bench-dispatch-{i}",
            });
            var done = await api.WaitAsync(job["id"]!.GetValue<string>(), _ => false);
            var created = done["created_at"]!.GetValue<DateTimeOffset>();
            var started = done["started_at"]!.GetValue<DateTimeOffset>();
            samples.Add((started - created).TotalMilliseconds);
        }
        samples.Sort();
        Console.WriteLine("## Dispatch (POST /v1/jobs → worker marks it running; Hangfire long polling)");
        Console.WriteLine($"samples {samples.Count}: min {samples[0]:F0} ms, median {samples[samples.Count / 2]:F0} ms, max {samples[^1]:F0} ms");
        Console.WriteLine();
    }
}
