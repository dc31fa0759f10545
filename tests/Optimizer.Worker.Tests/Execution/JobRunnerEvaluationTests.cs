using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Optimizer.Domain.Common;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Reports;
using Optimizer.Worker.Hosting;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Execution;

public sealed class JobRunnerEvaluationTests
{
    [Fact]
    public async Task RunAsync_StoresReport_WhenRtnJobAsksForEvaluation()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = await WorkerServices.StartAsync();
        await SeedDatasetsAsync(services, ct);
        var (tenantId, sourceId) = await JobRunnerTests.SeedModelAsync(services, withGpt2Tokenizer: true);
        var jobId = await JobRunnerTests.QueueJobAsync(services, tenantId, sourceId, "quantize", "rtn",
            """{"bits": 8, "group_size": 32}""", """{"seq_len": 32, "max_tokens": 256}""");

        await JobRunnerTests.RunAsync(services, jobId);

        await using var db = services.NewDb();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId, ct);
        Assert.True(job.Status == JobStatus.Succeeded, $"{job.Status}: {job.ErrorCode} {job.ErrorMessage}");
        var report = await db.Reports.SingleAsync(r => r.Id == job.ReportId, ct);
        Assert.Equal(job.OutputModelId, report.ModelId);
        Assert.Equal(sourceId, report.BaselineModelId);
        var items = JsonSerializer.Deserialize<List<JsonElement>>(report.ItemsJson, OptimizerJson.Options)!;
        var ids = items.Select(i => i.GetProperty("id").GetString()).ToList();
        Assert.Contains("integrity.all_tensors_finite", ids);
        Assert.Contains("integrity.output_loads_and_runs", ids);
        Assert.Contains("quality.perplexity_within_tolerance", ids);
        Assert.Contains("efficiency.size_within_budget", ids);
        Assert.True(items.Single(i => i.GetProperty("id").GetString() == "integrity.output_loads_and_runs").GetProperty("answer").GetBoolean(),
            report.ItemsJson);
        Assert.True(items.Single(i => i.GetProperty("id").GetString() == "efficiency.size_within_budget").GetProperty("answer").GetBoolean(),
            report.ItemsJson);
        Assert.True(items.Single(i => i.GetProperty("id").GetString() == "integrity.all_tensors_finite").GetProperty("answer").GetBoolean());
        Assert.Equal(items.Count, report.ItemsTotal);
        using var metrics = JsonDocument.Parse(job.MetricsJson);
        Assert.True(metrics.RootElement.GetProperty("perplexity").GetDouble() > 1);
        // 8-bit RTN barely moves a model: the next-token predictions agree almost everywhere.
        Assert.True(metrics.RootElement.GetProperty("top1_agreement").GetDouble() > 0.9, job.MetricsJson);
        // The int8 kernel runs RTN's 8-bit output: the report times it against the fp32 source and asks the latency item.
        Assert.True(metrics.RootElement.GetProperty("latency_ms_per_token").GetDouble() > 0, job.MetricsJson);
        Assert.True(metrics.RootElement.GetProperty("baseline_latency_ms_per_token").GetDouble() > 0, job.MetricsJson);
        Assert.True(metrics.RootElement.GetProperty("speedup").GetDouble() > 0, job.MetricsJson);
        Assert.Equal("int8 g32", metrics.RootElement.GetProperty("latency_kernels")[0].GetString());
        Assert.Contains("efficiency.faster_than_baseline", ids);
    }

    [Fact]
    public async Task RunAsync_StoresReportWithoutOutputModel_WhenEvaluateJobRuns()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = await WorkerServices.StartAsync();
        await SeedDatasetsAsync(services, ct);
        var (tenantId, sourceId) = await JobRunnerTests.SeedModelAsync(services, withGpt2Tokenizer: true);
        var jobId = await JobRunnerTests.QueueJobAsync(services, tenantId, sourceId, "evaluate", "standard",
            $$"""{"baseline_model_id": "{{sourceId}}", "seq_len": 32, "max_tokens": 128}""");

        await JobRunnerTests.RunAsync(services, jobId);

        await using var db = services.NewDb();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId, ct);
        Assert.True(job.Status == JobStatus.Succeeded, $"{job.Status}: {job.ErrorCode} {job.ErrorMessage}");
        Assert.Null(job.OutputModelId);
        Report report = await db.Reports.SingleAsync(r => r.Id == job.ReportId, ct);
        // A model against itself: identical predictions, zero KL.
        Assert.Equal("pass", report.Verdict);
        Assert.Equal(1.0, report.Score);
    }

    internal static async Task SeedDatasetsAsync(WorkerServices services, CancellationToken ct)
    {
        _ = TestEnvironment.CorpusDir;
        await using var scope = services.Provider.CreateAsyncScope();
        await ActivatorUtilities.CreateInstance<BuiltinDatasetSeeder>(scope.ServiceProvider).SeedAsync(ct);
    }
}
