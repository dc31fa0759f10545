using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// Merge jobs through the API on two real models: the fixture and its magnitude-pruned copy (made by a prune job).
/// Task arithmetic with λ = 1 must reproduce the pruned model bit for bit; a linear merge registers an evaluated model;
/// MWA weighs the lower-loss checkpoint more; an RWS signature patched back with λ = 1 gives the pruned layer 0;
/// a merge of models whose tensors differ is refused with 422 naming the tensor, and nothing is queued.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class MergeEndToEndTests(ServiceFixture service)
{
    [Fact]
    public async Task MergeJobs_CombineTheFixtureAndItsPrunedCopy_AndReproduceTheFineTuneWithLambdaOne()
    {
        using var client = service.CreateClient();
        var fixture = (await FixtureModel.UploadAsync(service, client, "merge-fixture"))["id"]!.GetValue<string>();
        var prune = await SubmitAsync(client, new { type = "prune", method = "magnitude", model_id = fixture, @params = new { sparsity = 0.5 } });
        var pruned = (await SucceededAsync(client, prune))["output_model_id"]!.GetValue<string>();

        var arithmetic = await SubmitAsync(client, new
        {
            type = "merge",
            method = "task_arithmetic",
            base_model_id = fixture,
            models = new[] { new { model_id = pruned, weight = 1.0 } },
            @params = new { lambda = 1.0 },
        });
        var linear = await SubmitAsync(client, new
        {
            type = "merge",
            method = "linear",
            models = new[] { new { model_id = fixture, weight = 1.0 }, new { model_id = pruned, weight = 1.0 } },
            evaluation = new { dataset_id = "ds_builtin_moby_dick_heldout", seq_len = 256, max_tokens = 4096 },
        });

        var mwa = await SubmitAsync(client, new
        {
            type = "merge",
            method = "mwa",
            @params = new
            {
                metric = "loss",
                penalty = 2.0,
                checkpoints = new[] { new { model_id = fixture, step = 100, loss = 3.0 }, new { model_id = pruned, step = 200, loss = 3.3 } },
            },
        });
        var extract = await SubmitAsync(client, new
        {
            type = "merge",
            method = "rws",
            base_model_id = fixture,
            models = new[] { new { model_id = pruned, weight = 1.0 } },
            @params = new { mode = "extract", layers = new[] { 0 } },
        });

        var reproduced = (await SucceededAsync(client, arithmetic))["output_model_id"]!.GetValue<string>();
        var expected = await TensorsAsync(client, pruned);
        var actual = await TensorsAsync(client, reproduced);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, bytes) in expected)
        {
            Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), $"tensor '{name}' of the task-arithmetic merge differs from the pruned model");
        }
        var output = await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{reproduced}"), HttpStatusCode.OK);
        Assert.Equal("LlamaForCausalLM", output["architecture"]!.GetValue<string>());
        var sources = output["parent"]!["source_model_ids"]!.AsArray().Select(s => s!.GetValue<string>()).ToList();
        Assert.Contains(fixture, sources);
        Assert.Contains(pruned, sources);

        var weights = (await SucceededAsync(client, mwa))["metrics"]!["mwa_weights"]!.AsArray().Select(w => w!.GetValue<double>()).ToList();
        Assert.Equal(1.0, weights.Sum(), 9);
        Assert.Equal(Math.Pow(3.3 / 3.0, 2), weights[0] / weights[1], 6);

        // RWS: the pruned copy's layer-0 difference as a signature, patched back onto the fixture with λ = 1.
        var signature = (await SucceededAsync(client, extract))["output_model_id"]!.GetValue<string>();
        var apply = await SubmitAsync(client, new
        {
            type = "merge",
            method = "rws",
            base_model_id = fixture,
            models = new[] { new { model_id = signature, weight = 1.0 } },
            @params = new { layers = new[] { 0 } },
        });
        var patched = await TensorsAsync(client, (await SucceededAsync(client, apply))["output_model_id"]!.GetValue<string>());
        var clean = await TensorsAsync(client, fixture);
        foreach (var (name, bytes) in patched)
        {
            var source = name.StartsWith("model.layers.0.", StringComparison.Ordinal) ? expected : clean;
            Assert.True(bytes.AsSpan().SequenceEqual(source[name]), $"tensor '{name}' of the RWS patch is neither the pruned (layer 0) nor the clean weight");
        }

        var averaged = await SucceededAsync(client, linear);
        var perplexity = averaged["metrics"]!["perplexity"]!.GetValue<double>();
        Assert.True(double.IsFinite(perplexity) && perplexity > 1, averaged.ToJsonString());
        Assert.False(string.IsNullOrEmpty(averaged["report_id"]?.GetValue<string>()), averaged.ToJsonString());
    }

    [Fact]
    public async Task MergeJob_IsRefusedWith422NamingTheTensor_WhenTheModelsDoNotMatch()
    {
        using var client = service.CreateClient();
        var fixture = (await FixtureModel.UploadAsync(service, client, "merge-mismatch-fixture"))["id"]!.GetValue<string>();
        var other = await UploadMismatchedAsync(client);
        var before = await CountJobsAsync(client);

        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            type = "merge",
            method = "ties",
            base_model_id = fixture,
            models = new[] { new { model_id = other, weight = 1.0 } },
        });

        var problem = await service.ReadJsonAsync(response, HttpStatusCode.UnprocessableEntity);
        var detail = problem["detail"]!.GetValue<string>();
        Assert.Contains("'model.embed_tokens.weight'", detail);
        Assert.Contains("models[0]", detail);
        Assert.Equal(before, await CountJobsAsync(client));

        var noBase = await client.PostAsJsonAsync("/v1/jobs", new
        {
            type = "merge",
            method = "ties",
            models = new[] { new { model_id = fixture, weight = 1.0 } },
        });
        var invalid = await service.ReadJsonAsync(noBase, HttpStatusCode.BadRequest);
        Assert.NotNull(invalid["errors"]!["base_model_id"]);
    }

    private async Task<string> SubmitAsync(HttpClient client, object body)
    {
        var job = await service.ReadJsonAsync(await client.PostAsJsonAsync("/v1/jobs", body), HttpStatusCode.Accepted);
        return job["id"]!.GetValue<string>();
    }

    private async Task<JsonObject> SucceededAsync(HttpClient client, string jobId)
    {
        var done = await JobPolling.WaitForTerminalAsync(service, client, jobId, TimeSpan.FromMinutes(10));
        Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString() + service.Logs);
        return done;
    }

    private async Task<int> CountJobsAsync(HttpClient client)
    {
        var page = await service.ReadJsonAsync(await client.GetAsync("/v1/jobs?type=merge&limit=100"), HttpStatusCode.OK);
        return page["data"]!.AsArray().Count;
    }

    /// <summary>Every tensor's raw bytes of a stored model (single-file safetensors), read through the files endpoint.</summary>
    private static async Task<Dictionary<string, byte[]>> TensorsAsync(HttpClient client, string modelId)
    {
        var file = await client.GetByteArrayAsync($"/v1/models/{modelId}/files/model.safetensors");
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        using var header = JsonDocument.Parse(file.AsMemory(8, headerLength));
        var tensors = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in header.RootElement.EnumerateObject().Where(e => e.Name != "__metadata__"))
        {
            var offsets = entry.Value.GetProperty("data_offsets");
            var begin = 8 + headerLength + offsets[0].GetInt32();
            tensors[entry.Name] = file[begin..(8 + headerLength + offsets[1].GetInt32())];
        }
        return tensors;
    }

    /// <summary>A Llama with the fixture's config but a 10-row embedding: its shapes cannot merge with the fixture (no quality claim).</summary>
    private async Task<string> UploadMismatchedAsync(HttpClient client)
    {
        var dir = Path.Combine(Path.GetTempPath(), "optimizer-e2e-mismatch-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.Copy(Path.Combine(FixtureModel.ModelDir, "config.json"), Path.Combine(dir, "config.json"));
            const int Rows = 10;
            const int Hidden = 128;
            var json = $"{{\"model.embed_tokens.weight\":{{\"dtype\":\"F32\",\"shape\":[{Rows},{Hidden}],\"data_offsets\":[0,{Rows * Hidden * 4}]}}}}";
            var header = Encoding.UTF8.GetBytes(json.PadRight((json.Length + 7) / 8 * 8));
            await using (var stream = File.Create(Path.Combine(dir, "model.safetensors")))
            {
                var prefix = new byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                await stream.WriteAsync(prefix);
                await stream.WriteAsync(header);
                await stream.WriteAsync(new byte[Rows * Hidden * 4]);
            }
            var model = await FixtureModel.UploadFolderAsync(service, client, dir, "merge-mismatch-other");
            return model["id"]!.GetValue<string>();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
