using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Optimizer.Tests.Shared;

namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>
/// The Api and one worker with the worker's Prometheus endpoint on a free port, EF Core's SQL command log on (many
/// lines inside a job, from a component that knows nothing about jobs), and one RTN job run once for all its tests.
/// </summary>
public sealed class TelemetryServiceFixture : ServiceFixture
{
    private readonly SemaphoreSlim _jobLock = new(1, 1);
    private JsonObject? _job;

    public int WorkerMetricsPort { get; } = FreePort();

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Worker__MetricsPort"] = WorkerMetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Logging__LogLevel__Microsoft.EntityFrameworkCore.Database.Command"] = "Information",
        // The Api logs ASP.NET Core at Warning by default (LoggingDefaults); the request-scope test reads its endpoint lines.
        ["Logging__LogLevel__Microsoft.AspNetCore.Routing"] = "Information",
    };

    /// <summary>The fixture model quantized with RTN (8 bits), run once; the finished job.</summary>
    public async Task<JsonObject> CompletedJobAsync()
    {
        await _jobLock.WaitAsync();
        try
        {
            if (_job is null)
            {
                using var client = CreateClient();
                var model = await FixtureModel.UploadAsync(this, client);
                var response = await client.PostAsJsonAsync("/v1/jobs", new
                {
                    type = "quantize",
                    method = "rtn",
                    model_id = model["id"]!.GetValue<string>(),
                    @params = new { bits = 8 },
                });
                var id = (await ReadJsonAsync(response, HttpStatusCode.Accepted))["id"]!.GetValue<string>();
                _job = await JobPolling.WaitForTerminalAsync(this, client, id, TimeSpan.FromMinutes(5));
                Assert.True(_job["status"]!.GetValue<string>() == "succeeded", _job.ToJsonString() + Logs);
                await WaitForAttemptEndAsync(id);
            }
            return _job;
        }
        finally
        {
            _jobLock.Release();
        }
    }

    /// <summary>
    /// The job is terminal once its final status is saved; the attempt itself ends (metric recorded, last line logged) a
    /// moment later, after the clean-up.
    /// </summary>
    private async Task WaitForAttemptEndAsync(string jobId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!JsonLogLines.Parse(Worker!.Output).Any(l => IsJobRunnerLine(l, jobId, "attempt ended")))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the worker never logged the end of {jobId}\n{Logs}");
            await Task.Delay(100);
        }
    }

    public static bool IsJobRunnerLine(JsonObject line, string jobId, string what) =>
        line["Category"]?.GetValue<string>() == "Optimizer.Worker.Execution.JobRunner" && JsonLogLines.State(line, "JobId") == jobId
        && line["Message"]!.GetValue<string>().Contains(what, StringComparison.Ordinal);

    /// <summary>The worker's own scrape (it binds <c>localhost</c> unless <c>Worker:MetricsHost</c> says otherwise).</summary>
    public async Task<PrometheusScrape> ScrapeWorkerAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        return PrometheusScrape.Parse(await http.GetStringAsync($"http://localhost:{WorkerMetricsPort}/metrics"));
    }

    public async Task<PrometheusScrape> ScrapeApiAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        return PrometheusScrape.Parse(await http.GetStringAsync("/metrics"));
    }
}
