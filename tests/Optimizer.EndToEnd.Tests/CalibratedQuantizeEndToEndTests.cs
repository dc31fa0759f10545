using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>GPTQ and AWQ through the Api on the fixture model: calibrated on the built-in dataset, evaluated, loaded back.</summary>
[Collection(ServiceCollection.Name)]
public sealed class CalibratedQuantizeEndToEndTests(ServiceFixture service)
{
    [Fact]
    public async Task GptqAndAwqJobs_WriteTheirPackingsAndPassEvaluation_ForTheFixtureModel()
    {
        using var client = service.CreateClient();
        var model = await FixtureModel.UploadAsync(service, client);

        // Few, short calibration windows keep the test quick; the default calibration dataset is the built-in one.
        var gptq = await SubmitAsync(client, model, "gptq", new { bits = 4, group_size = 128, calibration_samples = 8, seq_len = 128 });
        var awq = await SubmitAsync(client, model, "awq", new { bits = 4, group_size = 128, calibration_samples = 8, seq_len = 128 });
        foreach (var (jobId, method, format) in new[] { (gptq, "gptq", "gptq"), (awq, "awq", "awq") })
        {
            var done = await JobPolling.WaitForTerminalAsync(service, client, jobId, TimeSpan.FromMinutes(10));
            Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString() + service.Logs);
            var output = await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{done["output_model_id"]}"), HttpStatusCode.OK);
            Assert.Equal(method, output["quantization"]!["method"]!.GetValue<string>());
            Assert.Equal(format, output["quantization"]!["format"]!.GetValue<string>());
            Assert.Equal(4, output["quantization"]!["bits"]!.GetValue<int>());
            Assert.True(output["size_bytes"]!.GetValue<long>() < model["size_bytes"]!.GetValue<long>());

            var report = await service.ReadJsonAsync(await client.GetAsync($"/v1/reports/{done["report_id"]}"), HttpStatusCode.OK);
            var ppl = report["metrics"]!["perplexity"]!.GetValue<double>();
            var baseline = report["metrics"]!["baseline_perplexity"]!.GetValue<double>();
            // The evaluation loaded the packed weights back (dequantized): a 4-bit model stays close to the fixture.
            Assert.InRange(ppl / baseline, 0.95, 1.2);
        }
    }

    private async Task<string> SubmitAsync(HttpClient client, JsonObject model, string method, object parameters)
    {
        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            type = "quantize",
            method,
            model_id = model["id"]!.GetValue<string>(),
            @params = parameters,
            evaluation = new { dataset_id = "ds_builtin_moby_dick_heldout", seq_len = 256, max_tokens = 4096 },
            name = $"e2e-{method}-4",
        });
        var job = await service.ReadJsonAsync(response, HttpStatusCode.Accepted);
        return job["id"]!.GetValue<string>();
    }
}
