using System.Net;
using System.Net.Http.Json;
using Optimizer.Api.Tests.Infrastructure;

namespace Optimizer.Api.Tests;

/// <summary>The SSRF rule and input validation at registration time, with private networks not allowed (the default).</summary>
public sealed class WebhookGuardTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://192.168.0.10/hook")]
    [InlineData("http://100.64.0.1/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://[fd00::1]/hook")]
    [InlineData("http://[::ffff:127.0.0.1]/hook")]
    public async Task Create_Returns422AndStoresNothing_WhenUrlIsNotPublic(string url)
    {
        var tenant = await fixture.CreateTenantAsync();

        var response = await tenant.Http.PostAsJsonAsync("/v1/webhooks", new { url, events = new[] { "job.succeeded" } });

        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "url:");
        Assert.False(await fixture.WithDbAsync(db => db.WebhookSubscriptions.AnyAsync(s => s.TenantId == tenant.TenantId)));
    }

    [Fact]
    public async Task CreateJob_Returns422AndQueuesNothing_WhenNotifyUrlIsLoopback()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();
        var hangfireBefore = await fixture.HangfireJobCountAsync();

        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs", new
        {
            type = "quantize", method = "rtn", model_id = model.Id, notify = new[] { "https://203.0.113.7/ok", "http://127.0.0.1:9/ci" },
        });

        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "notify[1]");
        Assert.False(await fixture.WithDbAsync(db => db.Jobs.AnyAsync(j => j.TenantId == tenant.TenantId)));
        Assert.Equal(hangfireBefore, await fixture.HangfireJobCountAsync());
    }

    [Theory]
    [InlineData("""{"events":["job.succeeded"]}""", "url")]
    [InlineData("""{"url":"ftp://example.com/x"}""", "url")]
    [InlineData("""{"url":"not a url"}""", "url")]
    [InlineData("""{"url":"https://203.0.113.7/x","events":["job.exploded"]}""", "events")]
    [InlineData("""{"url":"https://203.0.113.7/x","events":[]}""", "events")]
    public async Task Create_Returns400WithFieldError_WhenBodyInvalid(string body, string field)
    {
        var tenant = await fixture.CreateTenantAsync();

        var response = await tenant.Http.PostAsync("/v1/webhooks", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Create_Returns201_WhenUrlIsAPublicAddress()
    {
        var tenant = await fixture.CreateTenantAsync();
        var response = await tenant.Http.PostAsJsonAsync("/v1/webhooks", new { url = "https://203.0.113.7/hooks/optimizer" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}
