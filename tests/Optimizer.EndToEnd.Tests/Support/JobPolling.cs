using System.Net;
using System.Text.Json.Nodes;

namespace Optimizer.EndToEnd.Tests.Support;

internal static class JobPolling
{
    private static readonly string[] Terminal = ["succeeded", "failed", "cancelled"];

    /// <summary>Polls <c>GET /v1/jobs/{id}</c> until the job is terminal and returns it.</summary>
    public static async Task<JsonObject> WaitForTerminalAsync(ServiceFixture service, HttpClient client, string jobId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await service.ReadJsonAsync(await client.GetAsync($"/v1/jobs/{jobId}"), HttpStatusCode.OK);
            if (Terminal.Contains(job["status"]!.GetValue<string>()))
            {
                return job;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Job {jobId} still {job["status"]} after {timeout}: {job.ToJsonString()}\n{service.Logs}");
            }
            await Task.Delay(200);
        }
    }
}
