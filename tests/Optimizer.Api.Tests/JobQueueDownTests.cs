using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Hangfire;
using Hangfire.States;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Optimizer.Api.Tests.Infrastructure;

namespace Optimizer.Api.Tests;

public sealed class JobQueueDownTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task Create_Returns503AndRemovesRow_WhenEnqueueFails()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();
        using var broken = fixture.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IBackgroundJobClient, UnreachableQueue>()));
        using var client = broken.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tenant.Key);

        var response = await client.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = model.Id });

        await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "nothing was queued");
        Assert.False(await fixture.WithDbAsync(db => db.Jobs.AnyAsync(j => j.TenantId == tenant.TenantId)));
    }

    private sealed class UnreachableQueue : IBackgroundJobClient
    {
        public string Create(Hangfire.Common.Job job, IState state) => throw new InvalidOperationException("queue down");

        public bool ChangeState(string jobId, IState state, string expectedState) => throw new InvalidOperationException("queue down");
    }
}
