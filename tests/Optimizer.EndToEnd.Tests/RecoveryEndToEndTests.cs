using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// Fault injection against real processes: workers are killed (<c>kill -9</c>), stopped (SIGTERM) and restarted while a
/// job runs, and a running job is cancelled. Workers run in the <c>Testing</c> environment with a pause after each
/// saved checkpoint (28 linears of the fixture model), so the job is reliably between layers when a test strikes, and
/// with a lease timeout of 10 s instead of a minute.
/// </summary>
/// <remarks>In the service collection, so it never runs beside the other end-to-end tests: a starved worker would miss heartbeats.</remarks>
[Collection(ServiceCollection.Name)]
public sealed class RecoveryEndToEndTests(BareServiceFixture service) : IClassFixture<BareServiceFixture>
{
    /// <summary>Worker settings of the fault-injection tests: a pause per checkpoint, a 10 s lease, a sweep every second.</summary>
    internal static readonly Dictionary<string, string> FastRecovery = new()
    {
        ["DOTNET_ENVIRONMENT"] = "Testing",
        ["Worker__TestCheckpointDelay"] = "00:00:00.400",
        ["Worker__HeartbeatInterval"] = "00:00:00.500",
        ["Worker__LeaseTimeout"] = "00:00:10",
        ["Worker__RecoverySweepInterval"] = "00:00:01",
    };

    [Fact]
    public async Task KilledWorker_JobResumesFromCheckpointOnAnotherWorker_WithExactlyOneOutputModel()
    {
        using var client = service.CreateClient();
        var model = await FixtureModel.UploadAsync(service, client);
        await using var first = service.StartWorker(FastRecovery);
        var jobId = await SubmitRtnAsync(client, model);
        var savedBeforeKill = await JobBlobs.WaitForCheckpointsAsync(service, client, jobId, 4);

        await first.StopAsync(kill: true);
        await using var second = service.StartWorker(FastRecovery);
        var done = await JobPolling.WaitForTerminalAsync(service, client, jobId, TimeSpan.FromMinutes(4));

        Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString() + service.Logs);
        Assert.Equal(2, done["attempts"]!.GetValue<int>());
        var outputs = await JobBlobs.ModelsOfJobAsync(service, client, jobId);
        Assert.Single(outputs);
        Assert.Equal(done["output_model_id"]!.GetValue<string>(), outputs[0]["id"]!.GetValue<string>());
        var events = await JobBlobs.EventsAsync(service, client, jobId);
        Assert.Contains(events, e => e["stage"]!.GetValue<string>() == "requeued");
        var resumed = events.Single(e => e["stage"]!.GetValue<string>() == "checkpoint");
        Assert.True(resumed["data"]!["restored"]!.GetValue<int>() >= savedBeforeKill, resumed.ToJsonString());
        await JobBlobs.WaitForNoBlobsAsync(service, JobBlobs.CheckpointPrefix(service, jobId));

        // The resumed output is exactly what an uninterrupted run writes.
        var reference = await JobPolling.WaitForTerminalAsync(service, client, await SubmitRtnAsync(client, model), TimeSpan.FromMinutes(4));
        Assert.Equal(await WeightsShaAsync(client, reference), await WeightsShaAsync(client, done));
    }

    [Fact]
    public async Task KilledWorker_JobFailsWithWorkerLost_WhenItHadItsLastAttempt()
    {
        var oneAttempt = new Dictionary<string, string>(FastRecovery) { ["Worker__MaxAttempts"] = "1" };
        using var client = service.CreateClient();
        var model = await FixtureModel.UploadAsync(service, client);
        await using var first = service.StartWorker(oneAttempt);
        var jobId = await SubmitRtnAsync(client, model);
        await JobBlobs.WaitForCheckpointsAsync(service, client, jobId, 2);

        await first.StopAsync(kill: true);
        await using var second = service.StartWorker(oneAttempt);
        var done = await JobPolling.WaitForTerminalAsync(service, client, jobId, TimeSpan.FromMinutes(2));

        Assert.True(done["status"]!.GetValue<string>() == "failed", done.ToJsonString() + service.Logs);
        Assert.Equal("worker_lost", done["error"]!["code"]!.GetValue<string>());
        Assert.Equal(1, done["attempts"]!.GetValue<int>());
        Assert.Empty(await JobBlobs.ModelsOfJobAsync(service, client, jobId));
        // The sweep deletes the leftovers right after it records the outcome.
        await JobBlobs.WaitForNoBlobsAsync(service, JobBlobs.CheckpointPrefix(service, jobId));
        await JobBlobs.WaitForNoBlobsAsync(service, JobBlobs.OutputPrefix(service, jobId));
    }

    [Fact]
    public async Task StoppedWorker_HandsTheJobBack_AndTheNextWorkerFinishesIt()
    {
        using var client = service.CreateClient();
        var model = await FixtureModel.UploadAsync(service, client);
        await using var first = service.StartWorker(FastRecovery);
        var jobId = await SubmitRtnAsync(client, model);
        await JobBlobs.WaitForCheckpointsAsync(service, client, jobId, 3);

        await first.StopAsync();
        var handedBack = await JobBlobs.WaitForStatusAsync(service, client, jobId, "queued");
        Assert.Equal(1, handedBack["attempts"]!.GetValue<int>());
        await using var second = service.StartWorker(FastRecovery);
        var done = await JobPolling.WaitForTerminalAsync(service, client, jobId, TimeSpan.FromMinutes(4));

        Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString() + service.Logs);
        Assert.Equal(2, done["attempts"]!.GetValue<int>());
        Assert.Single(await JobBlobs.ModelsOfJobAsync(service, client, jobId));
        Assert.Contains(await JobBlobs.EventsAsync(service, client, jobId), e => e["stage"]!.GetValue<string>() == "checkpoint");
    }

    [Fact]
    public async Task CancelWhileRunning_EndsCancelled_AndLeavesNoOutputNorCheckpoints()
    {
        using var client = service.CreateClient();
        var model = await FixtureModel.UploadAsync(service, client);
        await using var worker = service.StartWorker(FastRecovery);
        var jobId = await SubmitRtnAsync(client, model);
        await JobBlobs.WaitForCheckpointsAsync(service, client, jobId, 2);

        var cancel = await client.PostAsync($"/v1/jobs/{jobId}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var done = await JobPolling.WaitForTerminalAsync(service, client, jobId, TimeSpan.FromMinutes(2));

        Assert.True(done["status"]!.GetValue<string>() == "cancelled", done.ToJsonString() + service.Logs);
        Assert.Empty(await JobBlobs.ModelsOfJobAsync(service, client, jobId));
        Assert.Empty(await JobBlobs.ListAsync(service, JobBlobs.CheckpointPrefix(service, jobId)));
        Assert.Empty(await JobBlobs.ListAsync(service, JobBlobs.OutputPrefix(service, jobId)));
    }

    private async Task<string> SubmitRtnAsync(HttpClient client, JsonObject model)
    {
        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            type = "quantize",
            method = "rtn",
            model_id = model["id"]!.GetValue<string>(),
            @params = new { bits = 4, group_size = 128 },
            name = "recovery-rtn",
        });
        return (await service.ReadJsonAsync(response, HttpStatusCode.Accepted))["id"]!.GetValue<string>();
    }

    private async Task<string> WeightsShaAsync(HttpClient client, JsonObject job)
    {
        var model = await service.ReadJsonAsync(await client.GetAsync($"/v1/models/{job["output_model_id"]}"), HttpStatusCode.OK);
        return model["files"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "model.safetensors")!["sha256"]!.GetValue<string>();
    }
}
