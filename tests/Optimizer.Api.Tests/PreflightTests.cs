using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Optimizer.Api.Tests.Infrastructure;

namespace Optimizer.Api.Tests;

/// <summary>
/// With a worker of <see cref="SmallWorkerMemoryFixture.WorkerMemoryBytes"/>, the tiny test model fits a weight-streaming job
/// but not Wanda with its default 128 calibration windows of 2048 tokens, whose activations alone exceed the spare 4 MiB.
/// </summary>
public sealed class PreflightTests(SmallWorkerMemoryFixture fixture) : IClassFixture<SmallWorkerMemoryFixture>
{
    [Fact]
    public async Task Create_Returns422JobTooLargeAndQueuesNothing_WhenEstimateExceedsWorkerMemory()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var hangfireBefore = await fixture.HangfireJobCountAsync();

        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "prune", method = "wanda", model_id = modelId });

        var problem = await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "memory");
        Assert.EndsWith("job-too-large", problem.GetProperty("type").GetString());
        Assert.False(await fixture.WithDbAsync(db => db.Jobs.AnyAsync(j => j.TenantId == tenant.TenantId)));
        Assert.Equal(hangfireBefore, await fixture.HangfireJobCountAsync());
    }

    [Fact]
    public async Task Create_Accepts_WhenTheSameMethodUsesLessCalibration()
    {
        var (tenant, modelId) = await TenantWithModelAsync();

        var small = await tenant.Http.PostAsJsonAsync("/v1/jobs",
            new { type = "prune", method = "wanda", model_id = modelId, @params = new { calibration_samples = 4, seq_len = 64 } });
        var streaming = await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = modelId });

        Assert.Equal(HttpStatusCode.Accepted, small.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, streaming.StatusCode);
    }

    [Fact]
    public async Task Estimate_ReportsPeakAboveWorkerMemoryAndNotFits_ForCalibratedJob()
    {
        var (tenant, modelId) = await TenantWithModelAsync();

        var wanda = await EstimateAsync(tenant, new { type = "prune", method = "wanda", model_id = modelId });
        var rtn = await EstimateAsync(tenant, new { type = "quantize", method = "rtn", model_id = modelId });

        Assert.Equal(SmallWorkerMemoryFixture.WorkerMemoryBytes, wanda.GetProperty("worker_memory_bytes").GetInt64());
        Assert.False(wanda.GetProperty("fits").GetBoolean());
        Assert.True(wanda.GetProperty("peak_memory_bytes").GetInt64() > SmallWorkerMemoryFixture.WorkerMemoryBytes);
        Assert.True(rtn.GetProperty("fits").GetBoolean());
        Assert.True(rtn.GetProperty("peak_memory_bytes").GetInt64() < wanda.GetProperty("peak_memory_bytes").GetInt64());
    }

    private static async Task<JsonElement> EstimateAsync(TenantClient tenant, object body)
    {
        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs/estimate", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadAsAsync<JsonElement>();
    }

    private async Task<(TenantClient Tenant, string ModelId)> TenantWithModelAsync()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();
        return (tenant, model.Id);
    }
}
