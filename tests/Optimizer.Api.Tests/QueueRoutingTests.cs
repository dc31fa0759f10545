using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Optimizer.Api.Tests.Infrastructure;
using Optimizer.Tests.Shared;

namespace Optimizer.Api.Tests;

/// <summary>
/// <c>Optimizer:MethodQueues</c> on a real Hangfire: the job row, Hangfire's queue entry, the catalog and the preflight all
/// show the routed queue. In the metrics collection because it scrapes the gauges (see <see cref="MetricsCollection"/>).
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class QueueRoutingTests(RoutedQueuesFixture fixture) : IClassFixture<RoutedQueuesFixture>
{
    [Fact]
    public async Task Create_PutsARoutedMethodsJobOnTheRoutedHangfireQueue_AndOthersOnTheirOwn()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();

        var routed = await SubmitAsync(tenant, new { type = "quantize", method = "rtn", model_id = model.Id });
        var unrouted = await SubmitAsync(tenant, new { type = "quantize", method = "fp8", model_id = model.Id });

        Assert.Equal("gpu", routed.GetProperty("queue").GetString());
        Assert.Equal("cpu", unrouted.GetProperty("queue").GetString());
        foreach (var (job, queue) in new[] { (routed, "gpu"), (unrouted, "cpu") })
        {
            var id = job.GetProperty("id").GetString()!;
            var row = await fixture.WithDbAsync(db => db.Jobs.SingleAsync(j => j.Id == id));
            Assert.Equal(queue, row.Queue);
            Assert.Equal(queue, await HangfireQueueAsync(row.HangfireJobId!));
        }
        // No worker runs in this test host, so the gpu job waits: the Api says so in its log and in the gauges.
        Assert.Contains(fixture.Warnings, w => w.Contains(routed.GetProperty("id").GetString()!, StringComparison.Ordinal)
            && w.Contains("queue gpu, which no running worker serves", StringComparison.Ordinal));
        using var anonymous = fixture.CreateClient();
        var scrape = PrometheusScrape.Parse(await anonymous.GetStringAsync("/metrics"));
        Assert.Equal(1, scrape.Value("optimizer_queue_depth", ("queue", "gpu")));
        Assert.Equal(0, scrape.Value("optimizer_queue_workers", ("queue", "gpu")));
        Assert.Equal(0, scrape.Value("optimizer_queue_workers", ("queue", "cpu")));
    }

    [Fact]
    public async Task MethodsAndEstimate_ShowTheEffectiveQueue()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();

        var methods = (await tenant.Http.GetAsAsync<JsonElement>("/v1/methods")).GetProperty("data").EnumerateArray()
            .ToDictionary(m => $"{m.GetProperty("type").GetString()}/{m.GetProperty("method").GetString()}", m => m.GetProperty("queue").GetString());
        Assert.Equal("gpu", methods["quantize/rtn"]);
        Assert.Equal("cpu", methods["quantize/gptq"]);
        Assert.All(methods.Where(m => m.Key.StartsWith("prune/", StringComparison.Ordinal)), m => Assert.Equal("gpu", m.Value));
        Assert.All(methods.Where(m => m.Key.StartsWith("finetune/", StringComparison.Ordinal)), m => Assert.Equal("cpu", m.Value));

        var estimate = await (await tenant.Http.PostAsJsonAsync("/v1/jobs/estimate",
            new { type = "prune", method = "magnitude", model_id = model.Id, @params = new { sparsity = 0.5 } })).ReadAsAsync<JsonElement>();
        Assert.Equal("gpu", estimate.GetProperty("queue").GetString());
    }

    private static async Task<JsonElement> SubmitAsync(TenantClient tenant, object body)
    {
        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await response.ReadAsAsync<JsonElement>();
    }

    private async Task<string> HangfireQueueAsync(string hangfireJobId)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT queue FROM hangfire.jobqueue WHERE jobid = @id", connection);
        command.Parameters.AddWithValue("id", long.Parse(hangfireJobId, System.Globalization.CultureInfo.InvariantCulture));
        return (string)(await command.ExecuteScalarAsync())!;
    }
}

public sealed class QueueRoutingStartupTests
{
    [Fact]
    public async Task Start_FailsNamingTheRule_WhenARouteNamesAnUnknownMethod()
    {
        await using var host = new UnknownMethodRouteFixture();

        var error = Assert.ThrowsAny<Exception>(() => host.Server);

        var messages = string.Join(" | ", Flatten(error).Select(e => e.Message));
        Assert.Contains("Optimizer:MethodQueues: 'finetune/lorax=gpu': 'finetune/lorax' names no method", messages);
    }

    private static IEnumerable<Exception> Flatten(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
                {
                    yield return inner;
                }
            }
        }
    }
}
