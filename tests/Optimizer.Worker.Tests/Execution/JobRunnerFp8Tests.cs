using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Optimizer.Domain.Common;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Execution;

public sealed class JobRunnerFp8Tests
{
    [Fact]
    public async Task RunAsync_SucceedsWithReport_WhenFp8JobAsksForEvaluation()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = await WorkerServices.StartAsync();
        await JobRunnerEvaluationTests.SeedDatasetsAsync(services, ct);
        var (tenantId, sourceId) = await JobRunnerTests.SeedModelAsync(services, withGpt2Tokenizer: true);
        var jobId = await JobRunnerTests.QueueJobAsync(services, tenantId, sourceId, "quantize", "fp8",
            """{"format": "e4m3", "granularity": "channel"}""", """{"seq_len": 32, "max_tokens": 256}""");

        await JobRunnerTests.RunAsync(services, jobId);

        await using var db = services.NewDb();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId, ct);
        Assert.True(job.Status == JobStatus.Succeeded, $"{job.Status}: {job.ErrorCode} {job.ErrorMessage}");
        var output = await db.Models.Include(m => m.Files).SingleAsync(m => m.Id == job.OutputModelId, ct);
        Assert.Equal(new QuantizationInfo("fp8", 8, -1, "fp8_e4m3"), output.Quantization);
        var report = await db.Reports.SingleAsync(r => r.Id == job.ReportId, ct);
        Assert.Equal(job.OutputModelId, report.ModelId);
        var items = JsonSerializer.Deserialize<List<JsonElement>>(report.ItemsJson, OptimizerJson.Options)!;
        bool Answer(string id) => items.Single(i => i.GetProperty("id").GetString() == id).GetProperty("answer").GetBoolean();
        Assert.True(Answer("integrity.output_loads_and_runs"), report.ItemsJson);
        Assert.True(Answer("integrity.all_tensors_finite"), report.ItemsJson);
        Assert.True(Answer("efficiency.size_within_budget"), report.ItemsJson);
        using var metrics = JsonDocument.Parse(job.MetricsJson);
        var perplexity = metrics.RootElement.GetProperty("perplexity").GetDouble();
        var baseline = metrics.RootElement.GetProperty("baseline_perplexity").GetDouble();
        // FP8 weights with per-channel scales barely move a model (3 mantissa bits, relative error ≤ 2^-4).
        Assert.True(perplexity / baseline - 1 < 0.05, job.MetricsJson);
        Assert.True(metrics.RootElement.GetProperty("top1_agreement").GetDouble() > 0.9, job.MetricsJson);
    }
}
