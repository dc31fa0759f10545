using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Optimizer.Domain.Common;
using Optimizer.Domain.Jobs;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Execution;

/// <summary>Prune jobs through the runner on the trained fixture, with the standard evaluation.</summary>
public sealed class JobRunnerPruneTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("magnitude", """{"sparsity": 0.5}""")]
    [InlineData("wanda", """{"sparsity": 0.5, "calibration_samples": 32, "seq_len": 256}""")]
    [InlineData("wanda", """{"pattern": "2:4", "calibration_samples": 32, "seq_len": 256}""")]
    public async Task RunAsync_SucceedsWithSparsityItem_WhenPruneJobAsksForEvaluation(string method, string paramsJson)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = await WorkerServices.StartAsync();
        await JobRunnerEvaluationTests.SeedDatasetsAsync(services, ct);
        var (tenantId, sourceId) = await JobRunnerTests.SeedModelAsync(services, fromDir: Path.Combine(TestEnvironment.FixtureDir, "model"));
        var jobId = await JobRunnerTests.QueueJobAsync(services, tenantId, sourceId, "prune", method, paramsJson,
            """{"seq_len": 256, "max_tokens": 2048}""");

        await JobRunnerTests.RunAsync(services, jobId);

        await using var db = services.NewDb();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId, ct);
        Assert.True(job.Status == JobStatus.Succeeded, $"{job.Status}: {job.ErrorCode} {job.ErrorMessage}");
        var model = await db.Models.SingleAsync(m => m.Id == job.OutputModelId, ct);
        Assert.InRange(model.Sparsity!.Value, 0.495, 0.505);
        var report = await db.Reports.SingleAsync(r => r.Id == job.ReportId, ct);
        var items = JsonSerializer.Deserialize<List<JsonElement>>(report.ItemsJson, OptimizerJson.Options)!;
        var sparsityItem = items.Single(i => i.GetProperty("id").GetString() == "integrity.sparsity_achieved");
        Assert.True(sparsityItem.GetProperty("answer").GetBoolean(), report.ItemsJson);
        Assert.DoesNotContain(items, i => i.GetProperty("id").GetString() == "efficiency.size_within_budget");
        using var metrics = JsonDocument.Parse(job.MetricsJson);
        output.WriteLine($"{method} {paramsJson}: ppl {metrics.RootElement.GetProperty("perplexity").GetDouble():0.##} " +
            $"vs {metrics.RootElement.GetProperty("baseline_perplexity").GetDouble():0.##}, verdict {report.Verdict}, score {report.Score:0.###}");
        Assert.True(metrics.RootElement.GetProperty("perplexity_increase").GetDouble() <= 0.15, job.MetricsJson);
    }
}
