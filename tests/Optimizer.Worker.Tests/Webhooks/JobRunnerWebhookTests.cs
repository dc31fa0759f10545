using System.Text.Json;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Webhooks;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Tests.Execution;
using Optimizer.Worker.Tests.Support;
using Optimizer.Worker.Webhooks;

namespace Optimizer.Worker.Tests.Webhooks;

/// <summary>The runner's hook: events leave when a job ends, with the job (and its model) as the payload.</summary>
public sealed class JobRunnerWebhookTests
{
    [Fact]
    public async Task RunAsync_SendsJobSucceededAndModelReady_WhenJobSucceeds()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var (tenantId, sourceId) = await JobRunnerTests.SeedModelAsync(harness.Services);
        var subscription = await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "all");
        var jobId = await JobRunnerTests.QueueJobAsync(harness.Services, tenantId, sourceId, "quantize", "rtn", """{"group_size": 32}""");

        await JobRunnerTests.RunAsync(harness.Services, jobId);

        var requests = await harness.Receiver.WaitForAsync("/all", 2);
        await using var db = harness.Services.NewDb();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
        Assert.Equal(JobStatus.Succeeded, job.Status);
        var byType = requests.ToDictionary(r => Type(r), r => r);
        Assert.Equal(["job.succeeded", "model.ready"], byType.Keys.Order());
        Assert.All(requests, r => Assert.True(WebhookVerifier.Verify(subscription.Secret, r.Headers["webhook-id"],
            r.Headers["webhook-timestamp"], r.Headers["webhook-signature"], r.Body)));
        var jobData = Data(byType["job.succeeded"]);
        Assert.Equal((jobId, "succeeded", job.OutputModelId), (jobData.GetProperty("id").GetString(), jobData.GetProperty("status").GetString(),
            jobData.GetProperty("output_model_id").GetString()));
        Assert.Equal(32, jobData.GetProperty("params").GetProperty("group_size").GetInt32());
        var modelData = Data(byType["model.ready"]);
        Assert.Equal(job.OutputModelId, modelData.GetProperty("id").GetString());
        var file = modelData.GetProperty("files").EnumerateArray().First(f => f.GetProperty("name").GetString() == "model.safetensors");
        Assert.Equal($"https://optimizer.test/v1/models/{job.OutputModelId}/files/model.safetensors", file.GetProperty("url").GetString());
        Assert.Equal(64, file.GetProperty("sha256").GetString()!.Length);
    }

    [Fact]
    public async Task RunAsync_SendsJobFailedWithError_WhenJobFails()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var (tenantId, _) = await JobRunnerTests.SeedModelAsync(harness.Services);
        await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "failed");
        var jobId = await JobRunnerTests.QueueJobAsync(harness.Services, tenantId, "mdl_missing", "quantize", "rtn", "{}");

        await JobRunnerTests.RunAsync(harness.Services, jobId);

        var request = Assert.Single(await harness.Receiver.WaitForAsync("/failed", 1));
        Assert.Equal("job.failed", Type(request));
        Assert.Equal(WebhookIds.Message(jobId, "job.failed"), request.Headers["webhook-id"]);
        var data = Data(request);
        Assert.Equal(("failed", JobErrorCodes.InvalidModel), (data.GetProperty("status").GetString(), data.GetProperty("error").GetProperty("code").GetString()));
        Assert.Equal(JsonValueKind.Null, data.GetProperty("output_model_id").ValueKind);
    }

    [Fact]
    public async Task RunAsync_SendsJobCancelled_WhenCancelledWhileRunning()
    {
        await using var harness = await WebhookHarness.StartAsync(configure: s => s.AddSingleton(
            PipelineRegistry.Build(JobRunnerCancellationTests.PipelinesWithWaitingRtn(), MethodCatalog.All)));
        var (tenantId, sourceId) = await JobRunnerTests.SeedModelAsync(harness.Services);
        await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "cancelled");
        var jobId = await JobRunnerTests.QueueJobAsync(harness.Services, tenantId, sourceId, "quantize", "rtn", "{}");

        var run = JobRunnerTests.RunAsync(harness.Services, jobId);
        await JobRunnerCancellationTests.WaitForAsync(harness.Services, jobId, JobStatus.Running, CancellationToken.None);
        await using (var db = harness.Services.NewDb())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
            job.RequestCancel();
            await db.SaveChangesAsync();
        }
        await run.WaitAsync(TimeSpan.FromSeconds(30));

        var request = Assert.Single(await harness.Receiver.WaitForAsync("/cancelled", 1));
        Assert.Equal("job.cancelled", Type(request));
        Assert.Equal("cancelled", Data(request).GetProperty("status").GetString());
    }

    [Fact]
    public async Task RunAsync_LeavesPendingDeliveryThatTheSweepSends_WhenTheWorkerDiesBeforeQueueingIt()
    {
        // The queue fails like a worker killed right after the final commit: nothing is queued, only the rows remain.
        await using var harness = await WebhookHarness.StartAsync(configure: s => s.AddSingleton<IWebhookQueue, DeadQueue>());
        var (tenantId, _) = await JobRunnerTests.SeedModelAsync(harness.Services);
        var subscription = await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "outbox");
        var jobId = await JobRunnerTests.QueueJobAsync(harness.Services, tenantId, "mdl_missing", "quantize", "rtn", "{}");

        await JobRunnerTests.RunAsync(harness.Services, jobId);

        // Written in the transaction of the final status: the row is there although nothing was queued.
        var delivery = Assert.Single(await WebhookFlow.DeliveriesAsync(harness.Services, jobId));
        Assert.Equal((WebhookEventTypes.JobFailed, WebhookDeliveryStatus.Pending, 0), (delivery.EventType, delivery.Status, delivery.Attempts));
        await using (var db = harness.Services.NewDb())
        {
            Assert.Equal(JobStatus.Failed, (await db.Jobs.SingleAsync(j => j.Id == jobId)).Status);
            await db.WebhookDeliveries.Where(d => d.Id == delivery.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextRetryAt, DateTimeOffset.UtcNow.AddMinutes(-10)));
        }
        var sweeper = new WebhookSweeper(harness.Get<IServiceScopeFactory>(), new HangfireWebhookQueue(harness.Get<IBackgroundJobClient>()),
            NullLogger<WebhookSweeper>.Instance);

        Assert.Equal(1, await sweeper.SweepAsync(CancellationToken.None));
        await harness.WaitForDeliveryAsync(delivery.Id, d => d.Status == WebhookDeliveryStatus.Succeeded);
        var request = Assert.Single(harness.Receiver.To("/outbox"));
        Assert.True(WebhookVerifier.Verify(subscription.Secret, request.Headers["webhook-id"], request.Headers["webhook-timestamp"],
            request.Headers["webhook-signature"], request.Body));
    }

    private static string Type(ReceivedRequest request) =>
        JsonDocument.Parse(request.Body).RootElement.GetProperty("type").GetString()!;

    private static JsonElement Data(ReceivedRequest request) =>
        JsonDocument.Parse(request.Body).RootElement.GetProperty("data").Clone();

    private sealed class DeadQueue : IWebhookQueue
    {
        public void Enqueue(string deliveryId, int autoAttempt) => throw new InvalidOperationException("The worker died.");

        public void Schedule(string deliveryId, int autoAttempt, TimeSpan delay) => throw new InvalidOperationException("The worker died.");
    }
}
