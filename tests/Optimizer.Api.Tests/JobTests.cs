using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Optimizer.Api.Tests.Infrastructure;
using Optimizer.Domain.Jobs;

namespace Optimizer.Api.Tests;

public sealed class JobTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private sealed record JobDto(string Id, string Type, string Method, string Status, string? ModelId, JsonElement Params, string Queue, int Attempts, JsonElement? Error);

    [Fact]
    public async Task Create_Returns202QueuesHangfireJob_WhenValid()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var hangfireBefore = await fixture.HangfireJobCountAsync();

        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = modelId, @params = new { bits = 8 }, name = "int8" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await response.ReadAsAsync<JobDto>();
        Assert.Equal($"/v1/jobs/{job.Id}", response.Headers.Location?.ToString());
        Assert.Equal(("queued", "quantize", "rtn", modelId, "cpu"), (job.Status, job.Type, job.Method, job.ModelId, job.Queue));
        // Stored params are the bound options: defaults filled in.
        Assert.Equal(8, job.Params.GetProperty("bits").GetInt32());
        Assert.Equal(128, job.Params.GetProperty("group_size").GetInt32());
        var row = await fixture.WithDbAsync(db => db.Jobs.SingleAsync(j => j.Id == job.Id));
        Assert.NotNull(row.HangfireJobId);
        Assert.Equal(hangfireBefore + 1, await fixture.HangfireJobCountAsync());
        Assert.Equal(job.Id, (await tenant.Http.GetAsAsync<JobDto>($"/v1/jobs/{job.Id}")).Id);
    }

    [Theory]
    [InlineData("\"four\"")]
    [InlineData("12")]
    [InlineData("1")]
    public async Task Create_Returns400WithParamsErrorAndQueuesNothing_WhenBitsInvalid(string bits)
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var hangfireBefore = await fixture.HangfireJobCountAsync();
        var body = "{\"type\":\"quantize\",\"method\":\"rtn\",\"model_id\":\"" + modelId + "\",\"params\":{\"bits\":" + bits + "}}";

        var response = await tenant.Http.PostAsync("/v1/jobs", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("params.bits", out var messages), problem.ToString());
        Assert.NotEmpty(messages.EnumerateArray().First().GetString()!);
        Assert.False(await fixture.WithDbAsync(db => db.Jobs.AnyAsync(j => j.TenantId == tenant.TenantId)));
        Assert.Equal(hangfireBefore, await fixture.HangfireJobCountAsync());
    }

    [Fact]
    public async Task Create_Returns400ListingMethods_WhenMethodUnknown()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "nope", model_id = modelId });
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("rtn", problem.GetProperty("errors").GetProperty("method")[0].GetString());
    }

    [Fact]
    public async Task Create_Returns400_WhenTypeUnknownOrParamUnknown()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var badType = await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "compress", method = "rtn", model_id = modelId });
        Assert.Contains("quantize", (await badType.AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("type")[0].GetString());
        var badParam = await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = modelId, @params = new { bitz = 4 } });
        await badParam.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Create_Returns400_WhenEvaluationOrNotifyInvalid()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs", new
        {
            type = "quantize", method = "rtn", model_id = modelId,
            evaluation = new { seq_len = 2, rubric = new { max_perplexity_increase = -1 } },
            notify = new[] { "ftp://example.com/hook" },
        });
        var errors = (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("evaluation.seq_len", out _), errors.ToString());
        Assert.True(errors.TryGetProperty("evaluation.rubric.max_perplexity_increase", out _), errors.ToString());
        Assert.True(errors.TryGetProperty("notify[0]", out _), errors.ToString());
    }

    [Fact]
    public async Task Create_Returns422AndQueuesNothing_WhenModelUnknownOrOtherTenants()
    {
        var (_, foreignModel) = await TenantWithModelAsync();
        var tenant = await fixture.CreateTenantAsync();
        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = foreignModel, calibration_dataset_id = "ds_nope" });
        var problem = await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, foreignModel);
        Assert.Contains("ds_nope", problem.GetProperty("detail").GetString());
        Assert.False(await fixture.WithDbAsync(db => db.Jobs.AnyAsync(j => j.TenantId == tenant.TenantId)));
    }

    [Fact]
    public async Task Create_Returns400Problem_WhenBodyNotJson()
    {
        var tenant = await fixture.CreateTenantAsync();
        var response = await tenant.Http.PostAsync("/v1/jobs", new StringContent("{\"type\": ", System.Text.Encoding.UTF8, "application/json"));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "JSON");
    }

    [Fact]
    public async Task Create_Returns415Problem_WhenContentTypeNotJson()
    {
        var tenant = await fixture.CreateTenantAsync();
        var response = await tenant.Http.PostAsync("/v1/jobs", new StringContent("type=quantize", System.Text.Encoding.UTF8, "text/plain"));
        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Cancel_MarksQueuedJobCancelledAndDeletesHangfireJob_ThenReturns409()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var job = await (await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = modelId })).ReadAsAsync<JobDto>();

        var cancel = await tenant.Http.PostAsync($"/v1/jobs/{job.Id}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal("cancelled", (await cancel.ReadAsAsync<JobDto>()).Status);
        var row = await fixture.WithDbAsync(db => db.Jobs.SingleAsync(j => j.Id == job.Id));
        Assert.Equal(JobStatus.Cancelled, row.Status);
        Assert.NotNull(row.FinishedAt);
        Assert.Equal("Deleted", await HangfireStateAsync(row.HangfireJobId!));
        await (await tenant.Http.PostAsync($"/v1/jobs/{job.Id}/cancel", null)).AssertProblemAsync(HttpStatusCode.Conflict, "already cancelled");
    }

    [Fact]
    public async Task ListAndEvents_FilterAndPage_WhenJobsExist()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var job = await (await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = modelId })).ReadAsAsync<JobDto>();
        await fixture.WithDbAsync(async db =>
        {
            for (var seq = 1; seq <= 3; seq++)
            {
                db.JobEvents.Add(new JobEvent(job.Id, seq, "info", "load", $"step {seq}", seq == 2 ? """{"loss":1.5}""" : null));
            }
            return await db.SaveChangesAsync();
        });

        Assert.Single((await tenant.Http.GetAsAsync<PageOf<JobDto>>("/v1/jobs?status=queued&type=quantize")).Data);
        Assert.Empty((await tenant.Http.GetAsAsync<PageOf<JobDto>>("/v1/jobs?status=running")).Data);
        await (await tenant.Http.GetAsync("/v1/jobs?status=bogus")).AssertProblemAsync(HttpStatusCode.BadRequest);

        var page = await tenant.Http.GetAsAsync<PageOf<JsonElement>>($"/v1/jobs/{job.Id}/events?after=1&limit=1");
        Assert.True(page.HasMore);
        Assert.Equal("2", page.LastId);
        Assert.Equal(1.5, page.Data.Single().GetProperty("data").GetProperty("loss").GetDouble());
    }

    [Fact]
    public async Task Get_Returns404_WhenJobBelongsToAnotherTenant()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var job = await (await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = modelId })).ReadAsAsync<JobDto>();
        var other = await fixture.CreateTenantAsync();
        await (await other.Http.GetAsync($"/v1/jobs/{job.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await other.Http.PostAsync($"/v1/jobs/{job.Id}/cancel", null)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await other.Http.GetAsync($"/v1/jobs/{job.Id}/events")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Estimate_ReturnsSizeBasedFiguresAndQueuesNothing_WhenValid()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var hangfireBefore = await fixture.HangfireJobCountAsync();
        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs/estimate", new { type = "quantize", method = "rtn", model_id = modelId });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var estimate = await response.ReadAsAsync<JsonElement>();
        Assert.True(estimate.GetProperty("peak_memory_bytes").GetInt64() > 0);
        Assert.True(estimate.GetProperty("estimated_seconds").GetInt64() > 0);
        Assert.Equal("cpu", estimate.GetProperty("queue").GetString());
        Assert.False(await fixture.WithDbAsync(db => db.Jobs.AnyAsync(j => j.TenantId == tenant.TenantId)));
        Assert.Equal(hangfireBefore, await fixture.HangfireJobCountAsync());
        var invalid = await tenant.Http.PostAsJsonAsync("/v1/jobs/estimate", new { type = "quantize", method = "rtn", model_id = modelId, @params = new { bits = 99 } });
        await invalid.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    private async Task<(TenantClient Tenant, string ModelId)> TenantWithModelAsync()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();
        return (tenant, model.Id);
    }

    private async Task<string> HangfireStateAsync(string hangfireJobId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT statename FROM hangfire.job WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", long.Parse(hangfireJobId, System.Globalization.CultureInfo.InvariantCulture));
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
