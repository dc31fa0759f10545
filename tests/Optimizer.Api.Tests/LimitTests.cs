using System.Net;
using System.Net.Http.Json;
using Optimizer.Api.Tests.Infrastructure;
using Optimizer.Domain.Jobs;

namespace Optimizer.Api.Tests;

public sealed class LimitTests(SmallLimitsFixture fixture) : IClassFixture<SmallLimitsFixture>
{
    [Fact]
    public async Task Requests_Return429WithRetryAfter_WhenTenantExceedsRateLimit()
    {
        var tenant = await fixture.CreateTenantAsync();
        for (var i = 0; i < SmallLimitsFixture.PermitsPerMinute; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await tenant.Http.GetAsync("/v1/jobs")).StatusCode);
        }

        var refused = await tenant.Http.GetAsync("/v1/jobs");

        await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests, "per minute");
        var retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);
        // Other tenants, the admin and the health endpoints are not affected.
        var other = await fixture.CreateTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await other.Http.GetAsync("/v1/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task CreateJob_Returns429AndQueuesNothing_WhenTenantHasMaxActiveJobs()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();
        var body = new { type = "quantize", method = "rtn", model_id = model.Id };
        var first = await (await tenant.Http.PostAsJsonAsync("/v1/jobs", body)).ReadAsAsync<IdOnly>();
        Assert.Equal(HttpStatusCode.Accepted, (await tenant.Http.PostAsJsonAsync("/v1/jobs", body)).StatusCode);

        var refused = await tenant.Http.PostAsJsonAsync("/v1/jobs", body);

        await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests, "active");
        Assert.True(refused.Headers.RetryAfter is not null);
        Assert.Equal(SmallLimitsFixture.MaxActiveJobs, await fixture.WithDbAsync(db => db.Jobs.CountAsync(j => j.TenantId == tenant.TenantId)));
        // A finished (here: cancelled) job frees its slot.
        Assert.Equal(HttpStatusCode.Accepted, (await tenant.Http.PostAsync($"/v1/jobs/{first.Id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await tenant.Http.PostAsJsonAsync("/v1/jobs", body)).StatusCode);
    }

    [Fact]
    public async Task CreateJob_AcceptsExactlyTheLimit_WhenSubmissionsAreConcurrent()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();

        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
            tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = model.Id })));

        var statuses = responses.Select(r => r.StatusCode).ToList();
        Assert.True(statuses.Count(s => s == HttpStatusCode.Accepted) == SmallLimitsFixture.MaxActiveJobs, string.Join(",", statuses));
        Assert.All(statuses.Where(s => s != HttpStatusCode.Accepted), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        Assert.Equal(SmallLimitsFixture.MaxActiveJobs,
            await fixture.WithDbAsync(db => db.Jobs.CountAsync(j => j.TenantId == tenant.TenantId && j.Status == JobStatus.Queued)));
    }
}
