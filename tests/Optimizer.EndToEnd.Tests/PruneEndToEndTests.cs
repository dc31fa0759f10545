using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// Prune jobs through the API on the fixture model: magnitude with FARMS allocation, Wanda 2:4 and SparseGPT, each
/// registering a model whose record carries the achieved sparsity and the pattern.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class PruneEndToEndTests(ServiceFixture service)
{
    [Fact]
    public async Task PruneJobs_RegisterModelsWithSparsityAndPattern_ForTheFixtureModel()
    {
        using var client = service.CreateClient();
        var model = await FixtureModel.UploadAsync(service, client, "prune-fixture");
        Assert.True(model["sparsity"] is null, "an uploaded dense model has no sparsity");
        Assert.True(model["sparsity_pattern"] is null, "an uploaded dense model has no sparsity pattern");

        var calibration = new { calibration_samples = 8, seq_len = 128 };
        var jobs = new (string Method, object Params, string Pattern, double Target, bool Evaluate)[]
        {
            ("magnitude", new { sparsity = 0.6, allocation = "farms" }, "unstructured", 0.6, true),
            ("wanda", new { pattern = "2:4", calibration.calibration_samples, calibration.seq_len }, "2:4", 0.5, false),
            ("sparsegpt", new { sparsity = 0.5, calibration.calibration_samples, calibration.seq_len }, "unstructured", 0.5, false),
        };
        var submitted = new List<string>();
        foreach (var job in jobs)
        {
            submitted.Add(await SubmitAsync(client, model, job.Method, job.Params, job.Evaluate));
        }

        for (var i = 0; i < jobs.Length; i++)
        {
            var done = await JobPolling.WaitForTerminalAsync(service, client, submitted[i], TimeSpan.FromMinutes(10));
            Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString() + service.Logs);
            var output = await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{done["output_model_id"]}"), HttpStatusCode.OK);
            Assert.Equal(jobs[i].Pattern, output["sparsity_pattern"]?.GetValue<string>());
            // ALGORITHMS.md Part B: achieved sparsity within 0.5 % of the target.
            Assert.InRange(output["sparsity"]!.GetValue<double>(), jobs[i].Target - 0.005, jobs[i].Target + 0.005);
            Assert.Equal(model["id"]!.GetValue<string>(), output["parent"]!["source_model_ids"]![0]!.GetValue<string>());

            var listed = await service.ReadJsonAsync(await client.GetAsync("/v1/models?limit=100"), HttpStatusCode.OK);
            var row = listed["data"]!.AsArray().Single(m => m!["id"]!.GetValue<string>() == output["id"]!.GetValue<string>())!;
            Assert.Equal(jobs[i].Pattern, row["sparsity_pattern"]?.GetValue<string>());
            if (jobs[i].Evaluate)
            {
                await AssertSparsityItemPassesAsync(client, done);
            }
        }
    }

    private async Task<string> SubmitAsync(HttpClient client, JsonObject model, string method, object parameters, bool evaluate)
    {
        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            type = "prune",
            method,
            model_id = model["id"]!.GetValue<string>(),
            @params = parameters,
            evaluation = evaluate ? new { dataset_id = "ds_builtin_moby_dick_heldout", seq_len = 256, max_tokens = 4096 } : null,
            name = $"e2e-prune-{method}",
        });
        var job = await service.ReadJsonAsync(response, HttpStatusCode.Accepted);
        return job["id"]!.GetValue<string>();
    }

    private async Task AssertSparsityItemPassesAsync(HttpClient client, JsonObject job)
    {
        var reportId = job["report_id"]?.GetValue<string>();
        Assert.False(string.IsNullOrEmpty(reportId), "job has no report: " + job.ToJsonString());
        var report = await service.ReadJsonAsync(await client.GetAsync($"/v1/reports/{reportId}"), HttpStatusCode.OK);
        var item = report["items"]!.AsArray().Single(i => i!["id"]!.GetValue<string>() == "integrity.sparsity_achieved")!;
        Assert.True(item["answer"]!.GetValue<bool>(), item.ToJsonString());
    }
}
