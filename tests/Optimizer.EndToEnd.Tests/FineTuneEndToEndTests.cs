using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// A short LoRA fine-tune through the API on the fixture model: step events, checkpoint models listed by
/// <c>GET /v1/jobs/{id}/checkpoints</c>, an output holding the PEFT adapter beside the merged model, and an MWA merge
/// of the run's checkpoints named by its job id.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class FineTuneEndToEndTests(ServiceFixture service)
{
    [Fact]
    public async Task LoraJob_ProducesAdapterMergedModelAndCheckpoints_ForTheFixtureModel()
    {
        using var client = service.CreateClient();
        var model = await FixtureModel.UploadAsync(service, client, "finetune-fixture");
        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            type = "finetune",
            method = "lora",
            model_id = model["id"]!.GetValue<string>(),
            @params = new { steps = 6, batch_size = 2, seq_len = 64, checkpoint_every = 2, rank = 4, alpha = 8, learning_rate = 0.005, warmup_steps = 1 },
            evaluation = new { dataset_id = "ds_builtin_moby_dick_heldout", seq_len = 256, max_tokens = 2048 },
            name = "e2e-lora",
        });
        var job = await service.ReadJsonAsync(response, HttpStatusCode.Accepted);
        var jobId = job["id"]!.GetValue<string>();
        var done = await JobPolling.WaitForTerminalAsync(service, client, jobId, TimeSpan.FromMinutes(10));
        Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString() + service.Logs);
        Assert.Equal(6, done["metrics"]!["steps"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(done["report_id"]?.GetValue<string>()), "the merged output is evaluated like any model");

        var events = await JobBlobs.EventsAsync(service, client, jobId);
        var steps = events.Where(e => e["stage"]!.GetValue<string>() == "train" && e["data"]?["step"] is not null).ToList();
        Assert.Equal([1, 2, 3, 4, 5, 6], steps.Select(e => e["data"]!["step"]!.GetValue<int>()));
        Assert.All(steps, e => Assert.True(e["data"]!["loss"]!.GetValue<double>() > 0 && e["data"]!["lr"]!.GetValue<double>() > 0, e.ToJsonString()));

        var checkpoints = await service.ReadJsonAsync(await client.GetAsync($"/v1/jobs/{jobId}/checkpoints"), HttpStatusCode.OK);
        // Every checkpoint_every steps before the last (the last step is the output itself).
        Assert.Equal([2, 4], checkpoints["data"]!.AsArray().Select(c => c!["step"]!.GetValue<int>()));
        var checkpoint = checkpoints["data"]![0]!;
        Assert.True(checkpoint["metrics"]!["loss"]!.GetValue<double>() > 0);
        var checkpointModel = await service.ReadJsonAsync(
            await client.GetAsync($"/v1/models/{checkpoint["model_id"]!.GetValue<string>()}"), HttpStatusCode.OK);
        Assert.Equal("LlamaForCausalLM", checkpointModel["architecture"]!.GetValue<string>());
        Assert.Equal(jobId, checkpointModel["parent"]!["job_id"]!.GetValue<string>());

        var output = await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{done["output_model_id"]}"), HttpStatusCode.OK);
        var files = output["files"]!.AsArray().Select(f => f!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("adapter_config.json", files);
        Assert.Contains("adapter_model.safetensors", files);
        Assert.Contains("model.safetensors", files);
        var adapterConfig = JsonNode.Parse(await client.GetStringAsync($"/v1/models/{done["output_model_id"]}/files/adapter_config.json"))!;
        Assert.Equal("LORA", adapterConfig["peft_type"]!.GetValue<string>());
        Assert.Equal(4, adapterConfig["r"]!.GetValue<int>());

        var other = await client.GetAsync($"/v1/jobs/job_missing/checkpoints");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);

        // MWA over the run's checkpoints, named by the fine-tune's job id.
        var mwa = await service.ReadJsonAsync(await client.PostAsJsonAsync("/v1/jobs",
            new { type = "merge", method = "mwa", @params = new { job_id = jobId } }), HttpStatusCode.Accepted);
        Assert.Equal(checkpoints["data"]!.AsArray().Select(c => c!["model_id"]!.GetValue<string>()),
            mwa["params"]!["checkpoints"]!.AsArray().Select(c => c!["model_id"]!.GetValue<string>()));
        var merged = await JobPolling.WaitForTerminalAsync(service, client, mwa["id"]!.GetValue<string>(), TimeSpan.FromMinutes(5));
        Assert.True(merged["status"]!.GetValue<string>() == "succeeded", merged.ToJsonString() + service.Logs);
        var weights = merged["metrics"]!["mwa_weights"]!.AsArray().Select(w => w!.GetValue<double>()).ToList();
        Assert.Equal(2, weights.Count);
        Assert.Equal(1.0, weights.Sum(), 9);
    }
}
