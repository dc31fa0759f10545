using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Optimizer.Domain.Persistence;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Execution;

public sealed class CancellationWatcherTests
{
    [Fact]
    public async Task Token_Fires_WhenTheRowBecomesCancelling()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = await WorkerServices.StartAsync();
        var (tenantId, modelId) = await JobRunnerTests.SeedModelAsync(services);
        var jobId = await JobRunnerTests.QueueJobAsync(services, tenantId, modelId, "quantize", "rtn", "{}");
        await using (var db = services.NewDb())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId, ct);
            job.MarkRunning();
            await db.SaveChangesAsync(ct);
        }
        var options = services.Provider.GetRequiredService<DbContextOptions<OptimizerDbContext>>();
        await using var watcher = new CancellationWatcher(options, jobId, TimeSpan.FromMilliseconds(100));
        await Task.Delay(300, ct);
        Assert.False(watcher.IsCancellationRequested);

        await using (var db = services.NewDb())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId, ct);
            job.RequestCancel();
            await db.SaveChangesAsync(ct);
        }
        var fired = new TaskCompletionSource();
        await using var registration = watcher.Token.Register(() => fired.TrySetResult());
        var winner = await Task.WhenAny(fired.Task, Task.Delay(TimeSpan.FromSeconds(10), ct));
        Assert.Same(fired.Task, winner);
    }
}
