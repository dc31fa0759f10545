using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// FP4 (with LoRC), PTQTP and BitStack through the API on the fixture model: quantize, read the output model, and for
/// BitStack load it to a memory budget (<c>GET /v1/models/{id}?budget_mb=</c>, evaluate param <c>budget_mb</c>).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class LowBitEndToEndTests(ServiceFixture service)
{
    [Fact]
    public async Task LowBitJobs_WriteLoadableModels_AndBitStackLoadsToABudget()
    {
        using var client = service.CreateClient();
        var model = await FixtureModel.UploadAsync(service, client, "fixture-lowbit");
        var modelId = model["id"]!.GetValue<string>();

        // Only the BitStack budget is evaluated here: the fixture measurements (Worker tests) evaluate FP4 and PTQTP outputs.
        var fp4 = await SubmitAsync(client, "quantize", "fp4", modelId, new { group_size = 32, scale_constraint = "row_pow2", lorc_rank = 4 });
        var ptqtp = await SubmitAsync(client, "quantize", "ptqtp", modelId, new { group_size = 128, max_iters = 5 });
        var bitstack = await SubmitAsync(client, "quantize", "bitstack", modelId, new { blocks = 4, rank = 4 });

        var fp4Model = await OutputOfAsync(client, fp4);
        Assert.Equal("fp4", fp4Model["quantization"]!["method"]!.GetValue<string>());
        Assert.Equal("fp4_e2m1", fp4Model["quantization"]!["format"]!.GetValue<string>());
        Assert.True(fp4Model["size_bytes"]!.GetValue<long>() < model["size_bytes"]!.GetValue<long>());

        var ptqtpModel = await OutputOfAsync(client, ptqtp);
        Assert.Equal("trit_planes", ptqtpModel["quantization"]!["format"]!.GetValue<string>());

        var stack = await OutputOfAsync(client, bitstack);
        Assert.Contains(stack["files"]!.AsArray(), f => f!["name"]!.GetValue<string>() == "bitstack.json");
        var stackId = stack["id"]!.GetValue<string>();
        var full = await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{stackId}?budget_mb=100000"), HttpStatusCode.OK);
        var fullBudget = full["budget"]!;
        Assert.Equal(fullBudget["total_blocks"]!.GetValue<int>(), fullBudget["loaded_blocks"]!.GetValue<int>());
        var fullMb = fullBudget["full_size_bytes"]!.GetValue<long>() / 1048576.0;
        var minimumMb = fullBudget["minimum_size_bytes"]!.GetValue<long>() / 1048576.0;

        var budgetMb = Math.Round((minimumMb + fullMb) / 2, 3);
        var truncated = await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{stackId}?budget_mb={budgetMb}"), HttpStatusCode.OK);
        var budget = truncated["budget"]!;
        Assert.InRange(budget["loaded_blocks"]!.GetValue<int>(), budget["linears"]!.AsArray().Count, budget["total_blocks"]!.GetValue<int>() - 1);
        Assert.True(truncated["size_bytes"]!.GetValue<long>() <= budgetMb * 1048576);
        Assert.True(truncated["size_bytes"]!.GetValue<long>() < full["size_bytes"]!.GetValue<long>());
        await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{stackId}?budget_mb=0.001"), HttpStatusCode.UnprocessableEntity);
        await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{stackId}?budget_mb=-1"), HttpStatusCode.BadRequest);
        await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{modelId}?budget_mb=10"), HttpStatusCode.UnprocessableEntity);
        Assert.Null((await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{stackId}"), HttpStatusCode.OK))["budget"]);

        var evaluate = await SubmitAsync(client, "evaluate", "standard", stackId,
            new { budget_mb = budgetMb, dataset_id = "ds_builtin_moby_dick_heldout", seq_len = 256, max_tokens = 1024 });
        var evaluated = await JobPolling.WaitForTerminalAsync(service, client, evaluate, TimeSpan.FromMinutes(10));
        Assert.True(evaluated["status"]!.GetValue<string>() == "succeeded", evaluated.ToJsonString() + service.Logs);
        var report = await service.ReadJsonAsync(await client.GetAsync($"/v1/reports/{evaluated["report_id"]}"), HttpStatusCode.OK);
        Assert.Equal(truncated["size_bytes"]!.GetValue<long>(), report["metrics"]!["size_bytes"]!.GetValue<long>());
        Assert.True(double.IsFinite(report["metrics"]!["perplexity"]!.GetValue<double>()));
    }

    private async Task<string> SubmitAsync(HttpClient client, string type, string method, string modelId, object parameters)
    {
        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            type,
            method,
            model_id = modelId,
            @params = parameters,
            name = $"e2e-{method}",
        });
        var job = await service.ReadJsonAsync(response, HttpStatusCode.Accepted);
        return job["id"]!.GetValue<string>();
    }

    private async Task<JsonObject> OutputOfAsync(HttpClient client, string jobId)
    {
        var job = await JobPolling.WaitForTerminalAsync(service, client, jobId, TimeSpan.FromMinutes(10));
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString() + service.Logs);
        return await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{job["output_model_id"]}"), HttpStatusCode.OK);
    }
}
