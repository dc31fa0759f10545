using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Optimizer.Api.Tests.Infrastructure;
using Optimizer.Domain.Jobs;

namespace Optimizer.Api.Tests;

/// <summary><c>merge/mwa</c> with <c>{"job_id": …}</c>: a fine-tune's checkpoints become the merge's, checked at submission.</summary>
public sealed class MwaJobIdTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task Create_MapsTheFineTunesCheckpointsOntoParams_WhenJobIdIsAFineTune()
    {
        var tenant = await fixture.CreateTenantAsync();
        var (jobId, models) = await FineTuneWithCheckpointsAsync(tenant, 2);

        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "merge", method = "mwa", @params = new { job_id = jobId } });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await response.ReadAsAsync<JsonElement>();
        var checkpoints = job.GetProperty("params").GetProperty("checkpoints").EnumerateArray().ToList();
        Assert.Equal(models, checkpoints.Select(c => c.GetProperty("model_id").GetString()));
        Assert.Equal([10L, 20L], checkpoints.Select(c => c.GetProperty("step").GetInt64()));
        Assert.Equal([2.5, 2.0], checkpoints.Select(c => c.GetProperty("loss").GetDouble()));
        Assert.Equal(jobId, job.GetProperty("params").GetProperty("job_id").GetString());
        // The estimate takes the same form.
        var estimate = await tenant.Http.PostAsJsonAsync("/v1/jobs/estimate", new { type = "merge", method = "mwa", @params = new { job_id = jobId } });
        Assert.Equal(HttpStatusCode.OK, estimate.StatusCode);
    }

    [Theory]
    [InlineData("""{"job_id":"abc"}""", "params.job_id")]
    [InlineData("""{"job_id":"job_x","checkpoints":[{"model_id":"a","step":1,"loss":2},{"model_id":"b","step":2,"loss":1}]}""", "params.checkpoints")]
    [InlineData("""{"job_id":7}""", "params")]
    public async Task Create_Returns400_WhenTheJobIdFormIsMalformed(string parameters, string field)
    {
        var tenant = await fixture.CreateTenantAsync();

        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs",
            new { type = "merge", method = "mwa", @params = JsonDocument.Parse(parameters).RootElement });

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(problem.GetProperty("errors").EnumerateObject(), e => e.Name.StartsWith(field, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_Returns422NamingTheReason_WhenTheJobCannotBeAveraged()
    {
        var tenant = await fixture.CreateTenantAsync();
        var other = await fixture.CreateTenantAsync();
        var (single, _) = await FineTuneWithCheckpointsAsync(tenant, 1);
        var (othersFineTune, _) = await FineTuneWithCheckpointsAsync(other, 2);
        var quantize = await fixture.WithDbAsync(async db =>
        {
            var job = new Job(tenant.TenantId, "quantize", "rtn", "{}");
            db.Jobs.Add(job);
            await db.SaveChangesAsync();
            return job.Id;
        });

        foreach (var (jobId, reason) in new[]
        {
            ("job_missing", "no job 'job_missing' exists"),
            (othersFineTune, $"no job '{othersFineTune}' exists"),
            (quantize, "is a quantize job"),
            (single, "has 1 checkpoint model(s)"),
        })
        {
            var response = await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "merge", method = "mwa", @params = new { job_id = jobId } });
            await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, reason);
        }
        Assert.Equal(0, await fixture.WithDbAsync(db => db.Jobs.CountAsync(j => j.TenantId == tenant.TenantId && j.Type == "merge")));
    }

    /// <summary>A fine-tune job row with <paramref name="count"/> checkpoint events (steps 10, 20, …) naming uploaded models.</summary>
    private async Task<(string JobId, List<string> Models)> FineTuneWithCheckpointsAsync(TenantClient tenant, int count)
    {
        var models = new List<string>();
        for (var i = 0; i < count; i++)
        {
            models.Add((await (await tenant.Http.UploadModelAsync($"checkpoint-{i}")).ReadAsAsync<JsonElement>()).GetProperty("id").GetString()!);
        }
        var jobId = await fixture.WithDbAsync(async db =>
        {
            var job = new Job(tenant.TenantId, "finetune", "lora", "{}");
            db.Jobs.Add(job);
            for (var i = 0; i < count; i++)
            {
                db.JobEvents.Add(new JobEvent(job.Id, i + 1, "info", CheckpointEvents.Stage, $"checkpoint {i}",
                    JsonSerializer.Serialize(new { step = 10 * (i + 1), metrics = new { loss = 2.5 - 0.5 * i }, model_id = models[i] })));
            }
            await db.SaveChangesAsync();
            return job.Id;
        });
        return (jobId, models);
    }
}
