using System.Net;
using System.Net.Http.Json;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>The pretrained encoder through the API: upload the imported MiniLM, quantize it with RTN 4-bit, read the encoder report.</summary>
[Collection(ServiceCollection.Name)]
public sealed class EncoderEndToEndTests(ServiceFixture service)
{
    [Fact]
    public async Task RtnJob_ReportsEncoderMetrics_ForMiniLm()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = service.CreateClient();
        var modelDir = await MiniLmModel.ImportAsync(ct);
        var model = await FixtureModel.UploadFolderAsync(service, client, modelDir, "all-MiniLM-L6-v2");
        Assert.Equal("BertModel", model["architecture"]!.GetValue<string>());
        Assert.InRange(model["parameter_count"]!.GetValue<long>(), 22_000_000, 23_000_000);

        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            type = "quantize",
            method = "rtn",
            model_id = model["id"]!.GetValue<string>(),
            @params = new { bits = 4, group_size = 128 },
            evaluation = new { dataset_id = "ds_builtin_moby_dick_heldout" },
            name = "e2e-minilm-rtn-4",
        }, ct);
        var job = await service.ReadJsonAsync(response, HttpStatusCode.Accepted);
        var done = await JobPolling.WaitForTerminalAsync(service, client, job["id"]!.GetValue<string>(), TimeSpan.FromMinutes(10));
        Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString() + service.Logs);

        var report = await service.ReadJsonAsync(await client.GetAsync($"/v1/reports/{done["report_id"]}", ct), HttpStatusCode.OK);
        Assert.Contains(report["verdict"]!.GetValue<string>(), new[] { "pass", "fail" });
        var cosine = report["metrics"]!["encoder_mean_cosine"]!.GetValue<double>();
        Assert.InRange(cosine, 0.9, 1.0);
        Assert.InRange(report["metrics"]!["encoder_pair_spearman"]!.GetValue<double>(), 0.9, 1.0);
        var ids = report["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()).ToList();
        Assert.Contains("quality.encoder_cosine", ids);
        Assert.Contains("quality.encoder_neighbour_agreement", ids);
        Assert.DoesNotContain("quality.perplexity_within_tolerance", ids);
        var cosineItem = report["items"]!.AsArray().Single(i => i!["id"]!.GetValue<string>() == "quality.encoder_cosine")!;
        // The item's answer is the measured cosine against the 4-bit threshold, and being critical it decides the verdict.
        Assert.Equal(cosine >= 0.97, cosineItem["answer"]!.GetValue<bool>());
        Assert.Equal(cosine >= 0.97 ? "pass" : "fail", report["verdict"]!.GetValue<string>());
    }
}
