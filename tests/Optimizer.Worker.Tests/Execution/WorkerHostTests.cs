using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Optimizer.Domain.Jobs;
using Optimizer.Worker.Hosting;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Execution;

public sealed class WorkerHostTests
{
    [Fact]
    public async Task Host_PicksUpEnqueuedJobThroughHangfire_AndRunsItToSuccess()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = await WorkerServices.StartAsync();
        var (tenantId, modelId) = await JobRunnerTests.SeedModelAsync(services);
        var jobId = await JobRunnerTests.QueueJobAsync(services, tenantId, modelId, "quantize", "rtn", """{"group_size": 32}""");

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = services.ConnectionString,
            ["ConnectionStrings:Blob"] = services.BlobConnection,
            ["Optimizer:BlobContainer"] = services.Container,
            ["Worker:Queues"] = "cpu",
            ["Worker:WorkDir"] = services.WorkDir,
        });
        builder.AddWorkerServices();
        using var host = builder.Build();
        await host.Services.InitializeWorkerAsync(ct);
        await host.StartAsync(ct);
        try
        {
            // What the Api does: enqueue only the id on the job's queue.
            var client = new BackgroundJobClient(host.Services.GetRequiredService<JobStorage>());
            client.Create<IJobExecutor>(x => x.RunAsync(jobId, CancellationToken.None), new EnqueuedState("cpu"));

            var deadline = DateTime.UtcNow.AddSeconds(60);
            Job job;
            do
            {
                await Task.Delay(200, ct);
                await using var db = services.NewDb();
                job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId, ct);
            }
            while (!job.Status.IsTerminal() && DateTime.UtcNow < deadline);

            Assert.True(job.Status == JobStatus.Succeeded, $"{job.Status.ToWire()}: {job.ErrorCode} {job.ErrorMessage}");
            Assert.NotNull(job.OutputModelId);
            // What the Api reads to warn about unserved queues (QueueServers): this live worker, on its queues only.
            var serving = new QueueServers(host.Services.GetRequiredService<JobStorage>()).Counts();
            Assert.NotNull(serving);
            Assert.Equal(1, serving.GetValueOrDefault("cpu"));
            Assert.Equal(1, serving.GetValueOrDefault("webhooks"));
            Assert.False(serving.ContainsKey("gpu"));
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}
