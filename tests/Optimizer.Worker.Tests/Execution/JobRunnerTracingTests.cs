using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Telemetry;
using Optimizer.Tests.Shared;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Execution;

/// <summary>The <c>job.run</c> span continues the trace of the request that submitted the job (its stored traceparent).</summary>
public sealed class JobRunnerTracingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunAsync_StartsJobRunAsAChildOfTheSubmittingRequest()
    {
        var parent = ActivityContext.Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", null);
        var (jobId, spans) = await RunTracedAsync(parent.TraceId.ToHexString(), $"00-{parent.TraceId}-{parent.SpanId}-01");

        var run = Assert.Single(spans, s => s.OperationName == "job.run");
        Assert.Equal(parent.TraceId, run.TraceId);
        Assert.Equal(parent.SpanId, run.ParentSpanId);
        Assert.Equal(ActivityKind.Consumer, run.Kind);
        Assert.Equal("succeeded", run.GetTagItem("optimizer.job.outcome"));
        Assert.Equal(jobId, run.GetTagItem("optimizer.job.id"));
    }

    [Fact]
    public async Task RunAsync_StartsARootSpan_WhenTheJobCarriesNoTraceParent()
    {
        var (_, spans) = await RunTracedAsync(null, null);

        var run = Assert.Single(spans, s => s.OperationName == "job.run");
        Assert.Equal(default, run.ParentSpanId);
        Assert.Null(run.ParentId);
    }

    /// <summary>Runs one RTN job whose row holds <paramref name="traceParent"/>; returns the Optimizer spans of that job.</summary>
    private static async Task<(string JobId, List<Activity> Spans)> RunTracedAsync(string? traceId, string? traceParent)
    {
        await using var services = await WorkerServices.StartAsync();
        var (tenantId, modelId) = await JobRunnerTests.SeedModelAsync(services);
        var jobId = await JobRunnerTests.QueueJobAsync(services, tenantId, modelId, "quantize", "rtn", """{"group_size": 32}""");
        await using (var db = services.NewDb())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId, Ct);
            job.TraceParent = traceParent;
            await db.SaveChangesAsync(Ct);
        }
        using var recorder = new SpanRecorder(OptimizerActivities.SourceName);

        await JobRunnerTests.RunAsync(services, jobId);

        await using var check = services.NewDb();
        Assert.Equal(JobStatus.Succeeded, (await check.Jobs.SingleAsync(j => j.Id == jobId, Ct)).Status);
        var spans = recorder.OfJob(jobId);
        Assert.All(spans, s => Assert.True(traceId is null || s.TraceId.ToHexString() == traceId));
        return (jobId, spans);
    }
}
