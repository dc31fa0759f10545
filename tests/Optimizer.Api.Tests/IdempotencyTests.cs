using System.Net;
using System.Net.Http.Json;
using System.Text;
using Optimizer.Api.Tests.Infrastructure;

namespace Optimizer.Api.Tests;

public sealed class IdempotencyTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private sealed record JobDto(string Id, string Status);

    [Fact]
    public async Task Create_Returns200WithSameJob_WhenKeyAndBodyRepeat()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var hangfireBefore = await fixture.HangfireJobCountAsync();
        var compact = "{\"type\":\"quantize\",\"method\":\"rtn\",\"model_id\":\"" + modelId + "\",\"params\":{\"bits\":8}}";
        var spaced = "{ \"type\": \"quantize\",\n  \"method\": \"rtn\", \"model_id\": \"" + modelId + "\", \"params\": {\"bits\": 8} }";

        var first = await PostAsync(tenant, "key-1", compact);
        var second = await PostAsync(tenant, "key-1", spaced);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal((await first.ReadAsAsync<JobDto>()).Id, (await second.ReadAsAsync<JobDto>()).Id);
        Assert.Equal(1, await fixture.WithDbAsync(db => db.Jobs.CountAsync(j => j.TenantId == tenant.TenantId)));
        Assert.Equal(hangfireBefore + 1, await fixture.HangfireJobCountAsync());
    }

    [Fact]
    public async Task Create_Returns409AndQueuesNothing_WhenKeyReusedWithDifferentBody()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(tenant, "key-2", Body(modelId, 8))).StatusCode);

        var response = await PostAsync(tenant, "key-2", Body(modelId, 4));

        await response.AssertProblemAsync(HttpStatusCode.Conflict, "different request body");
        Assert.Equal(1, await fixture.WithDbAsync(db => db.Jobs.CountAsync(j => j.TenantId == tenant.TenantId)));
    }

    [Fact]
    public async Task Create_TreatsKeysPerTenant_WhenTwoTenantsUseTheSameKey()
    {
        var (first, firstModel) = await TenantWithModelAsync();
        var (second, secondModel) = await TenantWithModelAsync();

        var a = await PostAsync(first, "shared-key", Body(firstModel, 8));
        var b = await PostAsync(second, "shared-key", Body(secondModel, 8));

        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted), (a.StatusCode, b.StatusCode));
        Assert.NotEqual((await a.ReadAsAsync<JobDto>()).Id, (await b.ReadAsAsync<JobDto>()).Id);
    }

    [Fact]
    public async Task Create_StoresOneJob_WhenDuplicatesArriveConcurrently()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var body = Body(modelId, 8);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => PostAsync(tenant, "race-key", body)));

        var statuses = responses.Select(r => r.StatusCode).ToList();
        Assert.True(statuses.Count(s => s == HttpStatusCode.Accepted) == 1, string.Join(",", statuses));
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) == 7, string.Join(",", statuses));
        var ids = await Task.WhenAll(responses.Select(r => r.ReadAsAsync<JobDto>()));
        Assert.Single(ids.Select(j => j.Id).Distinct());
        Assert.Equal(1, await fixture.WithDbAsync(db => db.Jobs.CountAsync(j => j.TenantId == tenant.TenantId)));
    }

    [Fact]
    public async Task Create_CreatesNewJob_WhenKeyOlderThan24Hours()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var first = await (await PostAsync(tenant, "old-key", Body(modelId, 8))).ReadAsAsync<JobDto>();
        await fixture.WithDbAsync(db => db.IdempotencyKeys.Where(r => r.TenantId == tenant.TenantId)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.CreatedAt, DateTimeOffset.UtcNow.AddHours(-25))));

        var again = await PostAsync(tenant, "old-key", Body(modelId, 4));

        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.NotEqual(first.Id, (await again.ReadAsAsync<JobDto>()).Id);
    }

    [Fact]
    public async Task Create_Returns400_WhenKeyTooLongOrNotAscii()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var tooLong = await PostAsync(tenant, new string('k', 256), Body(modelId, 8));
        var problem = await tooLong.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("idempotency-key", out _), problem.ToString());
        Assert.False(await fixture.WithDbAsync(db => db.Jobs.AnyAsync(j => j.TenantId == tenant.TenantId)));
    }

    private static string Body(string modelId, int bits) =>
        "{\"type\":\"quantize\",\"method\":\"rtn\",\"model_id\":\"" + modelId + "\",\"params\":{\"bits\":" + bits + "}}";

    private static Task<HttpResponseMessage> PostAsync(TenantClient tenant, string key, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return tenant.Http.SendAsync(request);
    }

    private async Task<(TenantClient Tenant, string ModelId)> TenantWithModelAsync()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();
        return (tenant, model.Id);
    }
}
