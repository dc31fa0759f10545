using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// The pretrained encoder through the API: upload the imported MiniLM, quantize it with RTN 8-bit, FP8 and RTN 4-bit, and
/// read reports whose encoder items follow the real degradation of each format.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class EncoderEndToEndTests(ServiceFixture service)
{
    [Fact]
    public async Task QuantizeJobs_ReportEncoderDegradation_InOrderOfPrecision_ForMiniLm()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = service.CreateClient();
        var modelDir = await MiniLmModel.ImportAsync(ct);
        var model = await FixtureModel.UploadFolderAsync(service, client, modelDir, "all-MiniLM-L6-v2");
        Assert.Equal("BertModel", model["architecture"]!.GetValue<string>());
        Assert.InRange(model["parameter_count"]!.GetValue<long>(), 22_000_000, 23_000_000);
        var modelId = model["id"]!.GetValue<string>();

        var rtn8 = await QuantizeAsync(client, modelId, "rtn", new { bits = 8, group_size = 128 }, minCosine: 0.99, ct);
        var fp8 = await QuantizeAsync(client, modelId, "fp8", new { format = "e4m3", granularity = "channel" }, minCosine: 0.99, ct);
        var rtn4 = await QuantizeAsync(client, modelId, "rtn", new { bits = 4, group_size = 128 }, minCosine: 0.97, ct);

        // Measured once (bench/run): 8-bit RTN 0.9998, FP8 E4M3 0.9983, 4-bit RTN g128 0.949 — each format loses more.
        Assert.True(rtn8 > fp8 && fp8 > rtn4, $"mean cosine: rtn 8-bit {rtn8}, fp8 {fp8}, rtn 4-bit {rtn4}");
    }

    /// <summary>Runs one quantize job with evaluation and checks its encoder report; returns the mean cosine.</summary>
    private async Task<double> QuantizeAsync(HttpClient client, string modelId, string method, object parameters, double minCosine,
        CancellationToken ct)
    {
        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            type = "quantize",
            method,
            model_id = modelId,
            @params = parameters,
            evaluation = new { dataset_id = "ds_builtin_moby_dick_heldout" },
            name = $"e2e-minilm-{method}",
        }, ct);
        var job = await service.ReadJsonAsync(response, HttpStatusCode.Accepted);
        var done = await JobPolling.WaitForTerminalAsync(service, client, job["id"]!.GetValue<string>(), TimeSpan.FromMinutes(10));
        Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString() + service.Logs);

        var report = await service.ReadJsonAsync(await client.GetAsync($"/v1/reports/{done["report_id"]}", ct), HttpStatusCode.OK);
        var cosine = report["metrics"]!["encoder_mean_cosine"]!.GetValue<double>();
        Assert.InRange(cosine, 0.9, 1.0);
        Assert.InRange(report["metrics"]!["encoder_pair_spearman"]!.GetValue<double>(), 0.9, 1.0);
        var items = report["items"]!.AsArray();
        var ids = items.Select(i => i!["id"]!.GetValue<string>()).ToList();
        Assert.Contains("quality.encoder_neighbour_agreement", ids);
        Assert.DoesNotContain("quality.perplexity_within_tolerance", ids);
        // The item's answer is the measured cosine against the threshold of the output's bit width, and being critical
        // it decides the verdict.
        JsonNode cosineItem = items.Single(i => i!["id"]!.GetValue<string>() == "quality.encoder_cosine")!;
        Assert.Equal(cosine >= minCosine, cosineItem["answer"]!.GetValue<bool>());
        Assert.Equal(cosine >= minCosine ? "pass" : "fail", report["verdict"]!.GetValue<string>());
        return cosine;
    }
}
