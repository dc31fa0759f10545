using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Optimizer.Api.Tests.Infrastructure;

namespace Optimizer.Api.Tests;

/// <summary>An evaluation's judge model and task datasets are references like any other: unknown ones are refused at submission.</summary>
public sealed class EvaluationReferenceTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task Create_Returns422NamingTheJudgeAndTaskDatasets_WhenEvaluateParamsNameUnknownOnes()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var known = await UploadChoicesAsync(tenant);

        var judge = await tenant.Http.PostAsJsonAsync("/v1/jobs",
            new { type = "evaluate", method = "standard", model_id = modelId, @params = new { judge_model_id = "mdl_nojudge" } });
        var tasks = await tenant.Http.PostAsJsonAsync("/v1/jobs",
            new { type = "evaluate", method = "standard", model_id = modelId, @params = new { task_dataset_ids = new[] { known, "ds_notask" } } });

        await judge.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "params.judge_model_id: no ready model 'mdl_nojudge' exists.");
        var problem = await tasks.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "params.task_dataset_ids[1]: no dataset 'ds_notask' exists.");
        Assert.DoesNotContain("[0]", problem.GetProperty("detail").GetString());
        Assert.Equal(0, await fixture.WithDbAsync(db => db.Jobs.CountAsync(j => j.TenantId == tenant.TenantId)));
    }

    [Fact]
    public async Task Create_Returns422_WhenAJobsEvaluationNamesAnUnknownJudgeOrTaskDataset()
    {
        var (tenant, modelId) = await TenantWithModelAsync();

        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs", new
        {
            type = "quantize", method = "rtn", model_id = modelId,
            evaluation = new { judge_model_id = "mdl_nojudge", task_dataset_ids = new[] { "ds_notask" } },
        });

        var problem = await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "evaluation.judge_model_id: no ready model 'mdl_nojudge' exists.");
        Assert.Contains("evaluation.task_dataset_ids[0]: no dataset 'ds_notask' exists.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Create_Accepts_WhenTheJudgeAndTaskDatasetsExist()
    {
        var (tenant, modelId) = await TenantWithModelAsync();
        var judgeId = (await (await tenant.Http.UploadModelAsync("judge")).ReadAsAsync<JsonElement>()).GetProperty("id").GetString();
        var datasetId = await UploadChoicesAsync(tenant);

        var evaluate = await tenant.Http.PostAsJsonAsync("/v1/jobs", new
        {
            type = "evaluate", method = "standard", model_id = modelId, @params = new { judge_model_id = judgeId, task_dataset_ids = new[] { datasetId } },
        });
        var quantize = await tenant.Http.PostAsJsonAsync("/v1/jobs", new
        {
            type = "quantize", method = "rtn", model_id = modelId, evaluation = new { judge_model_id = judgeId, task_dataset_ids = new[] { datasetId } },
        });

        Assert.True(HttpStatusCode.Accepted == evaluate.StatusCode, await evaluate.Content.ReadAsStringAsync() + string.Join('\n', fixture.Errors.Entries));
        Assert.True(HttpStatusCode.Accepted == quantize.StatusCode, await quantize.Content.ReadAsStringAsync() + string.Join('\n', fixture.Errors.Entries));
    }

    private static async Task<string> UploadChoicesAsync(TenantClient tenant)
    {
        var dataset = await tenant.Http.UploadDatasetAsync("choices", "choices.jsonl",
            Encoding.UTF8.GetBytes("""{"prompt":"Call me","choices":["Ishmael","Ahab"],"answer":0}""" + "\n"));
        return (await dataset.ReadAsAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private async Task<(TenantClient Tenant, string ModelId)> TenantWithModelAsync()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<JsonElement>();
        return (tenant, model.GetProperty("id").GetString()!);
    }
}
