using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Persistence;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Execution;

public sealed class JobWatchTests
{
    private const string WorkerId = "test-host:1:abcd";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CancelRequested_Fires_WhenTheRowBecomesCancelling()
    {
        await using var services = await WorkerServices.StartAsync();
        var jobId = await ClaimedJobAsync(services);
        await using var watch = new JobWatch(Options(services), jobId, WorkerId, 1, TimeSpan.FromMilliseconds(100));
        await Task.Delay(300, Ct);
        Assert.False(watch.IsCancellationRequested);

        await using (var db = services.NewDb())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId, Ct);
            job.RequestCancel();
            await db.SaveChangesAsync(Ct);
        }

        Assert.True(await FiresAsync(watch.CancelRequested));
        Assert.False(watch.IsLost);
    }

    [Fact]
    public async Task RenewAsync_RenewsTheHeartbeatAndReturnsTheStatus_WhenTheAttemptHoldsTheJob()
    {
        await using var services = await WorkerServices.StartAsync();
        var jobId = await ClaimedJobAsync(services, heartbeat: DateTimeOffset.UtcNow.AddMinutes(-10));
        await using var watch = new JobWatch(Options(services), jobId, WorkerId, 1, TimeSpan.FromHours(1));
        await using var db = services.NewDb();

        var status = await watch.RenewAsync(db, Ct);

        Assert.Equal(JobStatus.Running, status);
        var heartbeat = await db.Jobs.Where(j => j.Id == jobId).Select(j => j.HeartbeatAt).SingleAsync(Ct);
        Assert.True(heartbeat > DateTimeOffset.UtcNow.AddMinutes(-1), $"heartbeat {heartbeat}");
    }

    [Fact]
    public async Task Lost_Fires_WhenAnotherAttemptOwnsTheJob()
    {
        await using var services = await WorkerServices.StartAsync();
        var jobId = await ClaimedJobAsync(services);
        await using var watch = new JobWatch(Options(services), jobId, WorkerId, 1, TimeSpan.FromMilliseconds(100));

        await using (var db = services.NewDb())
        {
            // What the recovery sweep and the next claim do: the row now names attempt 2 of another worker.
            await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Attempts, 2).SetProperty(j => j.WorkerId, "other-host:2:ef01"), Ct);
        }

        Assert.True(await FiresAsync(watch.Lost));
        Assert.False(watch.IsCancellationRequested);
        await using var check = services.NewDb();
        Assert.Null(await watch.RenewAsync(check, Ct));
    }

    private static DbContextOptions<OptimizerDbContext> Options(WorkerServices services) =>
        services.Provider.GetRequiredService<DbContextOptions<OptimizerDbContext>>();

    /// <summary>A queued job claimed the way the runner claims it: running, attempt 1 of <see cref="WorkerId"/>.</summary>
    private static async Task<string> ClaimedJobAsync(WorkerServices services, DateTimeOffset? heartbeat = null)
    {
        var (tenantId, modelId) = await JobRunnerTests.SeedModelAsync(services);
        var jobId = await JobRunnerTests.QueueJobAsync(services, tenantId, modelId, "quantize", "rtn", "{}");
        await using var db = services.NewDb();
        await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Status, JobStatus.Running).SetProperty(j => j.Attempts, 1)
            .SetProperty(j => j.WorkerId, WorkerId).SetProperty(j => j.HeartbeatAt, heartbeat ?? DateTimeOffset.UtcNow), Ct);
        return jobId;
    }

    private static async Task<bool> FiresAsync(CancellationToken token)
    {
        var fired = new TaskCompletionSource();
        await using var registration = token.Register(() => fired.TrySetResult());
        return await Task.WhenAny(fired.Task, Task.Delay(TimeSpan.FromSeconds(10), Ct)) == fired.Task;
    }
}
