using System.Net;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs.Models;

namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>What a job left in blob storage and in the model registry, and waiting for it to reach a point.</summary>
internal static class JobBlobs
{
    /// <summary>Blob names under <paramref name="prefix"/>.</summary>
    public static async Task<List<string>> ListAsync(ServiceFixture service, string prefix)
    {
        var names = new List<string>();
        await foreach (var item in service.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, CancellationToken.None))
        {
            names.Add(item.Name);
        }
        return names;
    }

    /// <summary>Waits (10 s at most) until nothing is left under <paramref name="prefix"/>.</summary>
    public static async Task WaitForNoBlobsAsync(ServiceFixture service, string prefix)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<string> left;
        while ((left = await ListAsync(service, prefix)).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.True(left.Count == 0, $"left under {prefix}: {string.Join(", ", left)}\n{service.Logs}");
    }

    public static string CheckpointPrefix(ServiceFixture service, string jobId) => $"tenants/{service.TenantId}/jobs/{jobId}/";

    /// <summary>The output model's folder: its id is derived from the job id, so it is known before the model exists.</summary>
    public static string OutputPrefix(ServiceFixture service, string jobId) => $"tenants/{service.TenantId}/models/mdl_{jobId["job_".Length..]}/";

    /// <summary>How many checkpoint keys the job has completely saved so far.</summary>
    public static async Task<int> SavedCheckpointsAsync(ServiceFixture service, string jobId) =>
        (await ListAsync(service, CheckpointPrefix(service, jobId))).Count(n => n.EndsWith("/.complete", StringComparison.Ordinal));

    /// <summary>Waits until the job is running and has saved at least <paramref name="count"/> checkpoints.</summary>
    public static async Task<int> WaitForCheckpointsAsync(ServiceFixture service, HttpClient client, string jobId, int count)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            var saved = await SavedCheckpointsAsync(service, jobId);
            if (saved >= count)
            {
                return saved;
            }
            var job = await service.ReadJsonAsync(await client.GetAsync($"/v1/jobs/{jobId}"), HttpStatusCode.OK);
            Assert.True(job["status"]!.GetValue<string>() is "queued" or "running", "job ended before the checkpoints: " + job.ToJsonString() + service.Logs);
            await Task.Delay(100);
        }
        throw new TimeoutException($"job {jobId} saved fewer than {count} checkpoints in 3 minutes\n{service.Logs}");
    }

    /// <summary>Waits until <c>GET /v1/jobs/{id}</c> shows <paramref name="status"/>.</summary>
    public static async Task<JsonObject> WaitForStatusAsync(ServiceFixture service, HttpClient client, string jobId, string status)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var job = await service.ReadJsonAsync(await client.GetAsync($"/v1/jobs/{jobId}"), HttpStatusCode.OK);
            if (job["status"]!.GetValue<string>() == status)
            {
                return job;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"job {jobId} never became {status}: {job.ToJsonString()}\n{service.Logs}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Registered models whose parent is the job.</summary>
    public static async Task<List<JsonObject>> ModelsOfJobAsync(ServiceFixture service, HttpClient client, string jobId)
    {
        var page = await service.ReadJsonAsync(await client.GetAsync("/v1/models?limit=100"), HttpStatusCode.OK);
        return [.. page["data"]!.AsArray().Select(m => m!.AsObject())
            .Where(m => m["parent"] is JsonObject parent && parent["job_id"]?.GetValue<string>() == jobId)];
    }

    /// <summary>The job's events (first 100).</summary>
    public static async Task<List<JsonObject>> EventsAsync(ServiceFixture service, HttpClient client, string jobId)
    {
        var page = await service.ReadJsonAsync(await client.GetAsync($"/v1/jobs/{jobId}/events?limit=100"), HttpStatusCode.OK);
        return [.. page["data"]!.AsArray().Select(e => e!.AsObject())];
    }
}
