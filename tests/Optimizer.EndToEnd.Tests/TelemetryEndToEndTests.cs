using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>Metrics and JSON logs of real Api and Worker processes around one RTN job.</summary>
[Collection(ServiceCollection.Name)]
public sealed class TelemetryEndToEndTests(TelemetryServiceFixture service) : IClassFixture<TelemetryServiceFixture>
{
    [Fact]
    public async Task Job_EveryWorkerLogLineInsideItCarriesJobAndTenantIds()
    {
        var job = await service.CompletedJobAsync();
        var jobId = job["id"]!.GetValue<string>();
        var lines = JsonLogLines.Parse(service.Worker!.Output);

        var start = lines.FindIndex(l => TelemetryServiceFixture.IsJobRunnerLine(l, jobId, "started"));
        var end = lines.FindIndex(l => TelemetryServiceFixture.IsJobRunnerLine(l, jobId, "attempt ended"));
        Assert.True(start >= 0 && end > start, $"no start/end lines for {jobId}\n{service.Logs}");
        var inside = lines[start..(end + 1)];
        var ofTheJob = inside.Where(l => JsonLogLines.Scope(l, "JobId") is not null).ToList();
        // EF Core's command log and the runner's own lines: the scope reaches components that know nothing of jobs.
        Assert.True(ofTheJob.Count(l => l["Category"]!.GetValue<string>().StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal)) >= 5,
            string.Join("\n", inside.Select(l => l.ToJsonString())));
        foreach (var line in inside)
        {
            // A process-wide sweep may run meanwhile: its lines say so; any other line must belong to the job.
            if (JsonLogLines.Scope(line, "Task") is not null)
            {
                continue;
            }
            Assert.True(JsonLogLines.Scope(line, "JobId") == jobId && JsonLogLines.Scope(line, "TenantId") == service.TenantId,
                "line without the job's ids: " + line.ToJsonString());
        }
        Assert.Equal("succeeded", JsonLogLines.State(lines[end], "Outcome"));
    }

    [Fact]
    public async Task ApiRequestLines_CarryTheTenantId_AfterAuthentication()
    {
        await service.CompletedJobAsync();
        var executing = JsonLogLines.Parse(service.Api.Output)
            .Where(l => l["Message"]?.GetValue<string>().Contains("Executing endpoint 'HTTP: POST /v1/jobs/", StringComparison.Ordinal) == true)
            .ToList();
        Assert.NotEmpty(executing);
        Assert.All(executing, l => Assert.Equal(service.TenantId, JsonLogLines.Scope(l, "TenantId")));
        // The hosting scope (request id and path) is written too.
        Assert.All(executing, l => Assert.NotNull(JsonLogLines.Scope(l, "RequestId")));
    }

    [Fact]
    public async Task Job_AppearsInTheWorkerAndApiScrapes()
    {
        var job = await service.CompletedJobAsync();
        var wall = (job["finished_at"]!.GetValue<DateTimeOffset>() - job["started_at"]!.GetValue<DateTimeOffset>()).TotalSeconds;

        var worker = await service.ScrapeWorkerAsync();
        (string, string)[] tags = [("type", "quantize"), ("method", "rtn"), ("status", "succeeded")];
        Assert.Equal(1, worker.Value("optimizer_job_duration_seconds_count", tags));
        var seconds = worker.Value("optimizer_job_duration_seconds_sum", tags);
        // The attempt runs from the claim (started_at) past the final save (finished_at) through the clean-up.
        Assert.True(seconds >= wall - 0.5 && seconds <= wall + 30, $"duration {seconds} s, job started_at→finished_at {wall} s");
        Assert.Equal(1, worker.Value("optimizer_job_duration_seconds_bucket", [.. tags, ("le", "+Inf")]));
        // The worker's Npgsql and HTTP client (blob storage) instrumentation.
        Assert.Contains(worker.Samples, s => s.Name.StartsWith("db_client_", StringComparison.Ordinal));
        Assert.Contains(worker.Samples, s => s.Name.StartsWith("http_client_request_duration_seconds", StringComparison.Ordinal));

        // The cluster gauges come from the Api (read from PostgreSQL and Hangfire, right however many workers run).
        var api = await service.ScrapeApiAsync();
        Assert.Equal(1, api.Value("optimizer_jobs", ("state", "succeeded")));
        Assert.Equal(0, api.Value("optimizer_jobs", ("state", "queued")));
        Assert.Equal(0, api.Value("optimizer_jobs", ("state", "running")));
        Assert.Equal(0, api.Value("optimizer_queue_depth", ("queue", "cpu")));
        Assert.Contains(api.Samples, s => s.Name == "optimizer_queue_depth" && s.Labels["queue"] == "webhooks");
    }
}
