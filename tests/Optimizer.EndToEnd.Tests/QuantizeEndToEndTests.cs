using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// The README walkthrough against real processes, PostgreSQL, Azurite, Hangfire and TorchSharp:
/// upload the fixture model → quantize with RTN → evaluate → download the artifact → read the report.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class QuantizeEndToEndTests(ServiceFixture service)
{
    [Fact]
    public async Task RtnJob_WritesGptqArtifactAndReport_ForTheFixtureModel()
    {
        using var client = service.CreateClient();
        var model = await FixtureModel.UploadAsync(service, client);
        Assert.Equal("LlamaForCausalLM", model["architecture"]!.GetValue<string>());
        Assert.True(model["parameter_count"]!.GetValue<long>() > 1_000_000);

        var job8 = await SubmitRtnAsync(client, model, bits: 8);
        var job4 = await SubmitRtnAsync(client, model, bits: 4);
        var done8 = await JobPolling.WaitForTerminalAsync(service, client, job8, TimeSpan.FromMinutes(10));
        var done4 = await JobPolling.WaitForTerminalAsync(service, client, job4, TimeSpan.FromMinutes(10));
        Assert.True(done8["status"]!.GetValue<string>() == "succeeded", done8.ToJsonString() + service.Logs);
        Assert.True(done4["status"]!.GetValue<string>() == "succeeded", done4.ToJsonString() + service.Logs);

        var output = await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{done4["output_model_id"]}"), HttpStatusCode.OK);
        Assert.Equal("rtn", output["quantization"]!["method"]!.GetValue<string>());
        Assert.Equal(4, output["quantization"]!["bits"]!.GetValue<int>());
        Assert.Equal(model["id"]!.GetValue<string>(), output["parent"]!["source_model_ids"]![0]!.GetValue<string>());
        Assert.True(output["size_bytes"]!.GetValue<long>() < model["size_bytes"]!.GetValue<long>());

        await AssertDownloadMatchesAsync(client, output);

        var report8 = await ReadReportAsync(client, done8);
        var report4 = await ReadReportAsync(client, done4);
        var baseline = report8["metrics"]!["baseline_perplexity"]!.GetValue<double>();
        var ppl8 = report8["metrics"]!["perplexity"]!.GetValue<double>();
        var ppl4 = report4["metrics"]!["perplexity"]!.GetValue<double>();
        // 8-bit RTN is near lossless; 4-bit costs something but stays the same model.
        Assert.InRange(ppl8 / baseline, 0.99, 1.01);
        Assert.InRange(ppl4 / baseline, 1.0, 1.5);
        Assert.Equal("pass", report8["verdict"]!.GetValue<string>());
        Assert.Contains(report8["items"]!.AsArray(), i => i!["id"]!.GetValue<string>() == "quality.perplexity_within_tolerance");
    }

    private async Task<string> SubmitRtnAsync(HttpClient client, JsonObject model, int bits)
    {
        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            type = "quantize",
            method = "rtn",
            model_id = model["id"]!.GetValue<string>(),
            @params = new { bits, group_size = 128 },
            evaluation = new { dataset_id = "ds_builtin_moby_dick_heldout", seq_len = 256, max_tokens = 16384 },
            name = $"e2e-rtn-{bits}",
        });
        var job = await service.ReadJsonAsync(response, HttpStatusCode.Accepted);
        Assert.Equal("queued", job["status"]!.GetValue<string>());
        return job["id"]!.GetValue<string>();
    }

    private async Task AssertDownloadMatchesAsync(HttpClient client, JsonObject output)
    {
        var file = output["files"]!.AsArray().Select(f => f!.AsObject())
            .Single(f => f["name"]!.GetValue<string>().EndsWith(".safetensors", StringComparison.Ordinal));
        var url = $"/v1/models/{output["id"]}/files/{file["name"]}";
        var bytes = await client.GetByteArrayAsync(url);
        Assert.Equal(file["sha256"]!.GetValue<string>(), Convert.ToHexStringLower(SHA256.HashData(bytes)));

        using var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new RangeHeaderValue(0, 7);
        var partial = await client.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(bytes[..8], await partial.Content.ReadAsByteArrayAsync());
    }

    private async Task<JsonObject> ReadReportAsync(HttpClient client, JsonObject job)
    {
        var reportId = job["report_id"]?.GetValue<string>();
        Assert.False(string.IsNullOrEmpty(reportId), "job has no report: " + job.ToJsonString());
        return await service.ReadJsonAsync(await client.GetAsync($"/v1/reports/{reportId}"), HttpStatusCode.OK);
    }
}
