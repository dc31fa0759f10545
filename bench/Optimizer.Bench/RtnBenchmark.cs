using System.Text.Json.Nodes;

namespace Optimizer.Bench;

/// <summary>RTN quantize time (job running → finished, quantization only) and held-out perplexity per bit width on the fixture.</summary>
internal static class RtnBenchmark
{
    public static async Task RunAsync(ServiceApi api, JsonObject fixture)
    {
        Console.WriteLine("## RTN on the fixture model (group size 128, asymmetric; held-out Moby-Dick, seq_len 256)");
        Console.WriteLine("| bits | quantize s | size MB | perplexity | baseline | increase |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        var fixtureId = fixture["id"]!.GetValue<string>();
        foreach (var bits in new[] { 8, 4, 3 })
        {
            var quantize = await Finish(api, await api.SubmitAsync(new
            {
                type = "quantize",
                method = "rtn",
                model_id = fixtureId,
                @params = new { bits, group_size = 128 },
                name = $"bench-rtn-{bits}",
            }));
            var seconds = (quantize["finished_at"]!.GetValue<DateTimeOffset>() - quantize["started_at"]!.GetValue<DateTimeOffset>()).TotalSeconds;
            var outputId = quantize["output_model_id"]!.GetValue<string>();
            var output = await api.GetAsync($"/v1/models/{outputId}");
            var evaluation = await Finish(api, await api.SubmitAsync(new
            {
                type = "evaluate",
                method = "standard",
                model_id = outputId,
                @params = new { baseline_model_id = fixtureId, seq_len = 256 },
            }));
            var report = await api.GetAsync($"/v1/reports/{evaluation["report_id"]}");
            var ppl = report["metrics"]!["perplexity"]!.GetValue<double>();
            var baseline = report["metrics"]!["baseline_perplexity"]!.GetValue<double>();
            Console.WriteLine($"| {bits} | {seconds:F1} | {output["size_bytes"]!.GetValue<long>() / 1048576.0:F1} | {ppl:F2} | {baseline:F2} | {(ppl / baseline - 1) * 100:F1} % |");
        }
        Console.WriteLine();
    }

    private static async Task<JsonObject> Finish(ServiceApi api, JsonObject job)
    {
        var done = await api.WaitAsync(job["id"]!.GetValue<string>(), _ => false);
        if (done["status"]!.GetValue<string>() != "succeeded")
        {
            throw new InvalidOperationException("job did not succeed: " + done.ToJsonString());
        }
        return done;
    }
}
