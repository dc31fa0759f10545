using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// The preflight against what a worker really holds: each job runs alone on a fresh worker process, whose peak resident
/// memory over the job (<c>metrics.peak_memory_bytes</c>, the kernel's high-water mark) must be covered by
/// <c>POST /v1/jobs/estimate</c> for the same body — and not by so much that the estimate is useless for sizing workers.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class PreflightMemoryEndToEndTests(ManyWorkersFixture service, ITestOutputHelper output) : IClassFixture<ManyWorkersFixture>
{
    /// <summary>How far above the measured peak an estimate may be and still be a useful size for a worker.</summary>
    private const double MaxOverestimate = 3.0;

    private static readonly object Evaluation = new { dataset_id = "ds_builtin_moby_dick_heldout", max_tokens = 4096 };

    [Fact]
    public async Task EachMethodFamily_EstimateCoversTheMeasuredPeak_WithinThreeTimes()
    {
        using var client = service.CreateClient();
        var fixture = (await FixtureModel.UploadAsync(service, client, "memory-fixture"))["id"]!.GetValue<string>();
        var copy = (await FixtureModel.UploadAsync(service, client, "memory-fixture-copy"))["id"]!.GetValue<string>();
        var jobs = new (string Name, object Body)[]
        {
            ("rtn 4-bit + evaluation", new { type = "quantize", method = "rtn", model_id = fixture, @params = new { bits = 4, group_size = 128 }, evaluation = Evaluation }),
            ("rtn 4-bit", new { type = "quantize", method = "rtn", model_id = fixture, @params = new { bits = 4, group_size = 128 } }),
            ("lora 4x256", new
            {
                type = "finetune", method = "lora", model_id = fixture,
                @params = new { steps = 4, batch_size = 4, seq_len = 256, rank = 4, alpha = 8, learning_rate = 0.005, warmup_steps = 1 },
            }),
            ("evaluate seq 128", new { type = "evaluate", method = "standard", model_id = fixture, @params = new { dataset_id = "ds_builtin_moby_dick_heldout", seq_len = 128, max_tokens = 4096 } }),
            ("gptq 4-bit", new { type = "quantize", method = "gptq", model_id = fixture, @params = new { bits = 4, group_size = 128, calibration_samples = 16, seq_len = 256 } }),
            ("lora + evaluation", new
            {
                type = "finetune", method = "lora", model_id = fixture,
                @params = new { steps = 4, batch_size = 2, seq_len = 128, rank = 4, alpha = 8, learning_rate = 0.005, warmup_steps = 1 },
                evaluation = Evaluation,
            }),
            ("merge linear + evaluation", new
            {
                type = "merge", method = "linear",
                models = new[] { new { model_id = fixture, weight = 1.0 }, new { model_id = copy, weight = 1.0 } },
                evaluation = Evaluation,
            }),
            ("evaluate", new { type = "evaluate", method = "standard", model_id = fixture, @params = new { dataset_id = "ds_builtin_moby_dick_heldout", max_tokens = 4096 } }),
        };

        var failures = new List<string>();
        foreach (var (name, body) in jobs)
        {
            var measured = await MeasuredPeakAsync(client, body);
            // Asked after the run: the built-in datasets exist once a worker has started (it seeds them).
            var estimate = await service.ReadJsonAsync(await client.PostAsJsonAsync("/v1/jobs/estimate", body), HttpStatusCode.OK);
            var estimated = estimate["peak_memory_bytes"]!.GetValue<long>();
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{name}: measured {measured / 1048576.0:F0} MiB, estimated {estimated / 1048576.0:F0} MiB ({(double)estimated / measured:F2}x)");
            output.WriteLine(line);
            if (estimated < measured || estimated > MaxOverestimate * measured)
            {
                failures.Add(line);
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>Runs <paramref name="body"/> on a worker process of its own and returns the job's peak resident bytes.</summary>
    private async Task<long> MeasuredPeakAsync(HttpClient client, object body)
    {
        await using var worker = service.StartWorker();
        await WaitForBuiltinDatasetsAsync(client, worker);
        var job = await service.ReadJsonAsync(await client.PostAsJsonAsync("/v1/jobs", body), HttpStatusCode.Accepted);
        var done = await JobPolling.WaitForTerminalAsync(service, client, job["id"]!.GetValue<string>(), TimeSpan.FromMinutes(10));
        Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString() + service.Logs);
        var peak = done["metrics"]!["peak_memory_bytes"]!.GetValue<long>();
        // At least the runtime and the model's float32 weights: the mark is a real measurement, not an empty one.
        Assert.True(peak > 100L * 1024 * 1024, $"peak {peak} bytes");
        return peak;
    }

    /// <summary>The first worker seeds the built-in datasets as it starts; jobs naming them are refused until then.</summary>
    private async Task WaitForBuiltinDatasetsAsync(HttpClient client, ServiceProcess worker)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while ((await client.GetAsync("/v1/datasets/ds_builtin_moby_dick_heldout")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline && !worker.HasExited, "the worker did not seed the built-in datasets\n" + service.Logs);
            await Task.Delay(250);
        }
    }
}
