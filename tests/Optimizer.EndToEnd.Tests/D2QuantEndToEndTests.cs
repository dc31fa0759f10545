using System.Net;
using System.Net.Http.Json;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>D²Quant through the Api on the fixture model: calibrated on the built-in dataset, evaluated with its down_proj biases loaded back.</summary>
[Collection(ServiceCollection.Name)]
public sealed class D2QuantEndToEndTests(ServiceFixture service)
{
    [Fact]
    public async Task D2QuantJob_WritesGptqPackingWithBiases_AndPassesEvaluation_ForTheFixtureModel()
    {
        using var client = service.CreateClient();
        var model = await FixtureModel.UploadAsync(service, client);

        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            type = "quantize",
            method = "d2quant",
            model_id = model["id"]!.GetValue<string>(),
            @params = new { bits = 3, group_size = 128, calibration_samples = 8, seq_len = 128, grid = 5 },
            evaluation = new { dataset_id = "ds_builtin_moby_dick_heldout", seq_len = 256, max_tokens = 4096 },
            name = "e2e-d2quant-3",
        });
        var job = await service.ReadJsonAsync(response, HttpStatusCode.Accepted);
        var done = await JobPolling.WaitForTerminalAsync(service, client, job["id"]!.GetValue<string>(), TimeSpan.FromMinutes(10));
        Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString() + service.Logs);

        var output = await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{done["output_model_id"]}"), HttpStatusCode.OK);
        Assert.Equal("d2quant", output["quantization"]!["method"]!.GetValue<string>());
        Assert.Equal("gptq", output["quantization"]!["format"]!.GetValue<string>());
        Assert.Equal(3, output["quantization"]!["bits"]!.GetValue<int>());
        Assert.True(output["size_bytes"]!.GetValue<long>() < model["size_bytes"]!.GetValue<long>());

        var report = await service.ReadJsonAsync(await client.GetAsync($"/v1/reports/{done["report_id"]}"), HttpStatusCode.OK);
        var ppl = report["metrics"]!["perplexity"]!.GetValue<double>();
        var baseline = report["metrics"]!["baseline_perplexity"]!.GetValue<double>();
        // The evaluation loaded the packed weights and the correction biases: a 3-bit model stays near the fixture.
        Assert.InRange(ppl / baseline, 0.9, 1.5);
    }
}
