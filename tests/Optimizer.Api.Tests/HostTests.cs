using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Optimizer.Api.Tests.Infrastructure;

namespace Optimizer.Api.Tests;

public sealed class HostTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task Readyz_Returns200WithChecks_WhenDependenciesUp()
    {
        using var client = fixture.CreateClient();
        var body = await client.GetAsAsync<JsonElement>("/readyz");
        Assert.Equal("ready", body.GetProperty("status").GetString());
        Assert.True(body.GetProperty("checks").GetProperty("hangfire").GetBoolean());
    }

    [Fact]
    public async Task Readyz_Returns503Problem_WhenBlobStoreUnreachable()
    {
        using var broken = fixture.WithWebHostBuilder(b => b.UseSetting("ConnectionStrings:Blob",
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;"));
        using var client = broken.CreateClient();
        var problem = await (await client.GetAsync("/readyz")).AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "blob");
        Assert.False(problem.GetProperty("checks").GetProperty("blob").GetBoolean());
        Assert.True(problem.GetProperty("checks").GetProperty("postgres").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task UnknownRoute_Returns404Problem()
    {
        var tenant = await fixture.CreateTenantAsync();
        await (await tenant.Http.GetAsync("/v1/nothing-here")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task WrongMethod_Returns405Problem()
    {
        var tenant = await fixture.CreateTenantAsync();
        await (await tenant.Http.PutAsync("/v1/methods", null)).AssertProblemAsync(HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task BadQueryValue_Returns400Problem()
    {
        var tenant = await fixture.CreateTenantAsync();
        await (await tenant.Http.GetAsync("/v1/models?limit=many")).AssertProblemAsync(HttpStatusCode.BadRequest, "limit");
    }

    [Fact]
    public async Task Methods_ListsRtnWithSchema()
    {
        var tenant = await fixture.CreateTenantAsync();
        var body = await tenant.Http.GetAsAsync<JsonElement>("/v1/methods");
        var rtn = body.GetProperty("data").EnumerateArray().Single(m => m.GetProperty("method").GetString() == "rtn");
        Assert.Equal("quantize", rtn.GetProperty("type").GetString());
        Assert.Equal(4, rtn.GetProperty("params_schema").GetProperty("properties").GetProperty("bits").GetProperty("default").GetInt32());
        Assert.Equal("cpu", rtn.GetProperty("queue").GetString());
    }

    [Fact]
    public async Task Report_ReturnsStoredItemsAndMetrics_AndIsTenantScoped()
    {
        var tenant = await fixture.CreateTenantAsync();
        var reportId = await fixture.WithDbAsync(async db =>
        {
            var report = new Domain.Reports.Report(tenant.TenantId, "job_x", "mdl_x", null)
            {
                Verdict = "pass", Score = 1, ItemsTotal = 1, ItemsPassed = 1,
                MetricsJson = """{"perplexity":12.5}""",
                ItemsJson = """[{"id":"quality.perplexity_within_tolerance","answer":true,"children":[]}]""",
            };
            db.Reports.Add(report);
            await db.SaveChangesAsync();
            return report.Id;
        });
        var body = await tenant.Http.GetAsAsync<JsonElement>($"/v1/reports/{reportId}");
        Assert.Equal(12.5, body.GetProperty("metrics").GetProperty("perplexity").GetDouble());
        Assert.Equal("quality.perplexity_within_tolerance", body.GetProperty("items")[0].GetProperty("id").GetString());
        var other = await fixture.CreateTenantAsync();
        await (await other.Http.GetAsync($"/v1/reports/{reportId}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Swagger_DescribesEndpointsAndBearerAuth()
    {
        using var client = fixture.CreateClient();
        var document = await client.GetAsAsync<JsonElement>("/swagger/v1/swagger.json");
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/v1/models", "/v1/models/{id}/files/{name}", "/v1/datasets", "/v1/jobs", "/v1/jobs/{id}/cancel", "/v1/jobs/{id}/events", "/v1/methods", "/v1/reports/{id}" })
        {
            Assert.True(paths.TryGetProperty(path, out _), path);
        }
        Assert.True(paths.GetProperty("/v1/models").GetProperty("post").GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/index.html")).StatusCode);
    }
}
