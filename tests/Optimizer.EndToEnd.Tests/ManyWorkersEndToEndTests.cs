using System.Net;
using System.Net.Http.Json;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// Several worker processes on one machine, on the same queues and database (what several hosts do): Hangfire hands
/// each job to one of them, and our claim on the row makes sure a job runs once however the deliveries go.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class ManyWorkersEndToEndTests(ManyWorkersFixture service) : IClassFixture<ManyWorkersFixture>
{
    private const int Workers = 3;
    private const int Jobs = 12;

    [Fact]
    public async Task BatchOnThreeWorkers_RunsEveryJobExactlyOnce_SpreadOverMoreThanOneWorker()
    {
        var workers = Enumerable.Range(0, Workers).Select(_ => service.StartWorker()).ToList();
        try
        {
            await WaitUntilServingAsync(workers);
            using var client = service.CreateClient();
            var model = await FixtureModel.UploadAsync(service, client);
            var ids = new List<string>();
            for (var i = 0; i < Jobs; i++)
            {
                var response = await client.PostAsJsonAsync("/v1/jobs", new
                {
                    type = "quantize",
                    method = "rtn",
                    model_id = model["id"]!.GetValue<string>(),
                    @params = new { bits = 8 },
                    name = $"many-{i}",
                });
                ids.Add((await service.ReadJsonAsync(response, HttpStatusCode.Accepted))["id"]!.GetValue<string>());
            }

            foreach (var id in ids)
            {
                var done = await JobPolling.WaitForTerminalAsync(service, client, id, TimeSpan.FromMinutes(4));
                Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString() + service.Logs);
                // One claim (queued → running) per job: attempts counts them.
                Assert.Equal(1, done["attempts"]!.GetValue<int>());
                var outputs = await JobBlobs.ModelsOfJobAsync(service, client, id);
                Assert.Equal(done["output_model_id"]!.GetValue<string>(), Assert.Single(outputs)["id"]!.GetValue<string>());
                var stages = await StagesAfterTheEndAsync(client, id);
                Assert.True(stages.Count(s => s == "start") == 1 && stages.Count(s => s is "done" or "failed" or "cancelled") == 1,
                    $"{id}: events {string.Join(", ", stages)}");
            }

            // Which process ran what: each worker logs the start of every attempt it claims.
            var startsPerWorker = workers.Select(w => JsonLogLines.Parse(w.Output)
                .Where(l => l["Category"]?.GetValue<string>() == "Optimizer.Worker.Execution.JobRunner"
                    && l["Message"]!.GetValue<string>().Contains(" started: ", StringComparison.Ordinal))
                .Select(l => JsonLogLines.State(l, "JobId")!)
                .ToList()).ToList();
            var summary = string.Join(", ", startsPerWorker.Select((s, i) => $"worker {i + 1}: {s.Count}"));
            Assert.True(ids.Order().SequenceEqual(startsPerWorker.SelectMany(s => s).Order()), "every job started exactly once: " + summary);
            Assert.True(startsPerWorker.Count(s => s.Count > 0) > 1, "the batch ran on one worker only: " + summary);
        }
        finally
        {
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }
        }
    }

    /// <summary>The stages of the job's events, once its terminal event is in (it is written just after the final status).</summary>
    private async Task<List<string>> StagesAfterTheEndAsync(HttpClient client, string jobId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var stages = (await JobBlobs.EventsAsync(service, client, jobId)).Select(e => e["stage"]!.GetValue<string>()).ToList();
            if (stages.Contains("done") || DateTime.UtcNow > deadline)
            {
                return stages;
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Waits until each worker's Hangfire server for the job queues has announced itself (it fetches from then on).</summary>
    private async Task WaitUntilServingAsync(List<ServiceProcess> workers)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!workers.All(w => JsonLogLines.Parse(w.Output).Any(l =>
            l["Message"]!.GetValue<string>() is var m && m.Contains(":worker:", StringComparison.Ordinal) && m.Contains("successfully announced", StringComparison.Ordinal))))
        {
            Assert.True(DateTime.UtcNow < deadline, "the workers did not start within 2 minutes\n" + service.Logs);
            Assert.DoesNotContain(workers, w => w.HasExited);
            await Task.Delay(250);
        }
    }
}
