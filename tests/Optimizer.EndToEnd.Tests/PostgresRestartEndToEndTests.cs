using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// Fault injection on the database: PostgreSQL is restarted (<c>pg_ctl -m fast stop</c>, a pause, start) while a job runs,
/// then the same worker takes the next job and is killed (<c>kill -9</c>) in the middle of it, and another one finishes
/// the rest. The service runs on a
/// PostgreSQL cluster of the test's own (<see cref="PostgresRestartFixture"/>).
/// </summary>
/// <remarks>In the service collection, so it never runs beside the other end-to-end tests.</remarks>
[Collection(ServiceCollection.Name)]
public sealed class PostgresRestartEndToEndTests(PostgresRestartFixture service) : IClassFixture<PostgresRestartFixture>
{
    private const int Jobs = 3;

    [Fact]
    public async Task RestartedPostgresAndKilledWorker_EveryJobEndsOnce_WithOneModelAndEachWebhookOnce()
    {
        using var sink = new WebhookSink();
        using var client = service.CreateClient();
        var model = await FixtureModel.UploadAsync(service, client);
        var hook = await service.ReadJsonAsync(await client.PostAsJsonAsync("/v1/webhooks", new { url = sink.BaseUrl + "hook" }), HttpStatusCode.Created);
        await using var first = service.StartWorker(RecoveryEndToEndTests.FastRecovery);
        var jobs = new List<string>();
        for (var i = 0; i < Jobs; i++)
        {
            jobs.Add(await SubmitAsync(client, model, sink.BaseUrl + "ci"));
        }
        await JobBlobs.WaitForCheckpointsAsync(service, client, jobs[0], 2);

        await service.Postgres.StopServerAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
        await service.Postgres.StartServerAsync();
        await service.WaitReadyAsync();
        // The running attempt carries on through the restart and finishes on the same worker, whose Hangfire server then
        // fetches the next job; that worker dies in the middle of it and another one takes over.
        var survivor = await JobPolling.WaitForTerminalAsync(service, client, jobs[0], TimeSpan.FromMinutes(5));
        Assert.True(survivor["attempts"]!.GetValue<int>() == 1, survivor.ToJsonString() + service.Logs);
        await JobBlobs.WaitForCheckpointsAsync(service, client, jobs[1], 2);
        await first.StopAsync(kill: true);
        await using var second = service.StartWorker(RecoveryEndToEndTests.FastRecovery);

        var ended = new List<JsonObject>();
        foreach (var id in jobs)
        {
            ended.Add(await JobPolling.WaitForTerminalAsync(service, client, id, TimeSpan.FromMinutes(5)));
        }
        Assert.All(ended, job => Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString() + service.Logs));
        Assert.True(ended[1]["attempts"]!.GetValue<int>() == 2, ended[1].ToJsonString());
        foreach (var id in jobs)
        {
            // Terminal exactly once: one "done" event, one registered output, one delivery per event and destination.
            var stages = await TerminalEventsAsync(client, id);
            Assert.True(stages.Count(IsTerminal) == 1, string.Join(", ", stages) + service.Logs);
            Assert.Single(await JobBlobs.ModelsOfJobAsync(service, client, id));
            Assert.Single(await DeliveriesAsync(client, $"/v1/jobs/{id}/deliveries"));
        }
        var subscription = await DeliveriesAsync(client, $"/v1/webhooks/{hook["id"]}/deliveries");
        Assert.Equal(Jobs * 2, subscription.Count);
        Assert.Equal(Jobs * 2, subscription.Select(d => (d["job_id"]!.GetValue<string>(), d["event"]!.GetValue<string>())).Distinct().Count());

        // Each message (webhook-id) reaches each destination exactly once: job.succeeded + model.ready to the
        // subscription, job.succeeded to the notify URL, per job.
        await sink.WaitForAsync(Jobs * 3, TimeSpan.FromMinutes(2), service.Logs);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var received = sink.Received.ToList();
        Assert.Equal(Jobs * 3, received.Count);
        Assert.Equal(received.Count, received.Distinct().Count());
        Assert.Equal(Jobs * 2, received.Select(r => r.WebhookId).Distinct().Count());
        var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    private static bool IsTerminal(string stage) => stage is "done" or "failed" or "cancelled";

    /// <summary>The job's event stages once its terminal event is there (the runner writes it just after the final status).</summary>
    private async Task<List<string>> TerminalEventsAsync(HttpClient client, string jobId)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var stages = (await JobBlobs.EventsAsync(service, client, jobId)).Select(e => e["stage"]!.GetValue<string>()).ToList();
            if (stages.Any(IsTerminal) || DateTime.UtcNow > deadline)
            {
                // A second terminal event, if there were one, would come from a second attempt's final save: give it time.
                await Task.Delay(TimeSpan.FromSeconds(1));
                return (await JobBlobs.EventsAsync(service, client, jobId)).Select(e => e["stage"]!.GetValue<string>()).ToList();
            }
            await Task.Delay(250);
        }
    }

    private async Task<string> SubmitAsync(HttpClient client, JsonObject model, string notify)
    {
        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            type = "quantize",
            method = "rtn",
            model_id = model["id"]!.GetValue<string>(),
            @params = new { bits = 4, group_size = 128 },
            name = "pg-restart-rtn",
            notify = new[] { notify },
        });
        return (await service.ReadJsonAsync(response, HttpStatusCode.Accepted))["id"]!.GetValue<string>();
    }

    private async Task<List<JsonObject>> DeliveriesAsync(HttpClient client, string path)
    {
        var page = await service.ReadJsonAsync(await client.GetAsync(path + "?limit=100"), HttpStatusCode.OK);
        return [.. page["data"]!.AsArray().Select(d => d!.AsObject())];
    }
}
