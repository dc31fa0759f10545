using System.Net;
using System.Net.Http.Json;
using Optimizer.Api.Tests.Infrastructure;
using Optimizer.Domain.Jobs;
using Optimizer.Tests.Shared;

namespace Optimizer.Api.Tests;

/// <summary>
/// Alone in the process (no parallel collection): every host's meter provider listens to every meter named
/// <c>Optimizer</c>, so a second live host would add its gauges to this host's scrape.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "metrics";
}

[Collection(MetricsCollection.Name)]
public sealed class MetricsTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task Metrics_ServesHttpServerAndOptimizerMetrics_WithoutAuthentication()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();
        for (var i = 0; i < 2; i++)
        {
            var response = await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = model.Id, @params = new { bits = 8 } });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        using var anonymous = fixture.CreateClient();
        var scrapeResponse = await anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, scrapeResponse.StatusCode);
        Assert.StartsWith("text/plain", scrapeResponse.Content.Headers.ContentType?.MediaType);
        var scrape = PrometheusScrape.Parse(await scrapeResponse.Content.ReadAsStringAsync());

        // ASP.NET Core's own server metrics, by route template (never by raw path: ids would explode the series).
        Assert.True(scrape.Value("http_server_request_duration_seconds_count",
            ("http_route", "/v1/jobs/"), ("http_request_method", "POST"), ("http_response_status_code", "202")) >= 2, scrape.Text);
        Assert.DoesNotContain(scrape.Samples, s => s.Labels.TryGetValue("http_route", out var route) && route.Contains(model.Id, StringComparison.Ordinal));
        // Jobs by state straight from the jobs table: this host's database holds exactly these two queued jobs.
        Assert.Equal(2, scrape.Value("optimizer_jobs", ("state", "queued")));
        foreach (var state in Enum.GetValues<JobStatus>().Where(s => s != JobStatus.Queued))
        {
            Assert.Equal(0, scrape.Value("optimizer_jobs", ("state", state.ToWire())));
        }
        // No worker runs here, so both wait in Hangfire's cpu queue; the empty known queues report 0.
        Assert.Equal(2, scrape.Value("optimizer_queue_depth", ("queue", "cpu")));
        Assert.Equal(0, scrape.Value("optimizer_queue_depth", ("queue", "gpu")));
        Assert.Equal(0, scrape.Value("optimizer_queue_depth", ("queue", "webhooks")));
        // Npgsql, HTTP client and runtime instrumentation are on as well.
        Assert.Contains(scrape.Samples, s => s.Name.StartsWith("db_client_", StringComparison.Ordinal));
        Assert.Contains(scrape.Samples, s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal) || s.Name.StartsWith("process_runtime_dotnet_", StringComparison.Ordinal));
        Assert.DoesNotContain(tenant.TenantId, scrape.Text);
    }
}
