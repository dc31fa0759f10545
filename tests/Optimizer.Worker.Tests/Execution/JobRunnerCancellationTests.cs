using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Quantize.Rtn;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Rtn;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Execution;

public sealed class JobRunnerCancellationTests
{
    [Fact]
    public async Task RunAsync_EndsCancelledAndRemovesPartialOutput_WhenCancelledWhileRunning()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = await WorkerServices.StartAsync(s => s.AddSingleton(
            PipelineRegistry.Build(PipelinesWithWaitingRtn(), MethodCatalog.All)));
        var (tenantId, sourceId) = await JobRunnerTests.SeedModelAsync(services);
        var jobId = await JobRunnerTests.QueueJobAsync(services, tenantId, sourceId, "quantize", "rtn", "{}");

        var run = JobRunnerTests.RunAsync(services, jobId);
        await WaitForAsync(services, jobId, JobStatus.Running, ct);
        await using (var db = services.NewDb())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId, ct);
            job.RequestCancel();
            await db.SaveChangesAsync(ct);
        }
        await run.WaitAsync(TimeSpan.FromSeconds(30), ct);

        await using var check = services.NewDb();
        var after = await check.Jobs.SingleAsync(j => j.Id == jobId, ct);
        Assert.Equal(JobStatus.Cancelled, after.Status);
        Assert.Equal(1, await check.Models.CountAsync(ct));
        var blobs = await services.Store.ListAsync($"tenants/{tenantId}/models/", ct);
        Assert.All(blobs, b => Assert.StartsWith($"tenants/{tenantId}/models/{sourceId}/", b));
        var events = await check.JobEvents.Where(e => e.JobId == jobId).OrderBy(e => e.Seq).ToListAsync(ct);
        Assert.Equal("cancelled", events[^1].Stage);
        Assert.False(Directory.Exists(Path.Combine(services.WorkDir, "jobs", jobId)));
    }

    /// <summary>Every real pipeline (the registry insists each catalog method has one) with RTN replaced by the waiting one.</summary>
    internal static IEnumerable<Type> PipelinesWithWaitingRtn() =>
        typeof(RtnPipeline).Assembly.GetTypes()
            .Where(t => t != typeof(RtnPipeline) && t.GetCustomAttribute<JobPipelineAttribute>() is not null)
            .Append(typeof(WaitingPipeline));

    internal static async Task WaitForAsync(WorkerServices services, string jobId, JobStatus status, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            await using var db = services.NewDb();
            if (await db.Jobs.AsNoTracking().AnyAsync(j => j.Id == jobId && j.Status == status, ct))
            {
                return;
            }
            await Task.Delay(50, ct);
        }
        Assert.Fail($"job {jobId} never became {status}");
    }

    /// <summary>Writes a partial output, then waits until it is cancelled.</summary>
    [JobPipeline("quantize", "rtn")]
    private sealed class WaitingPipeline : IJobPipeline<RtnOptions>
    {
        public async Task<PipelineResult> RunAsync(PipelineContext context, RtnOptions options, CancellationToken cancellationToken)
        {
            await File.WriteAllTextAsync(Path.Combine(context.OutputDir, "partial.bin"), "x", cancellationToken);
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}
