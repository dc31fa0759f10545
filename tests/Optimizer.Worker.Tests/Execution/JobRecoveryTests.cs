using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Webhooks;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Execution;

public sealed class JobRecoveryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SweepAsync_RequeuesAndEnqueues_WhenRunningJobsHeartbeatIsStale()
    {
        await using var services = await WorkerServices.StartAsync();
        var queue = new RecordingQueue();
        var jobId = await RunningJobAsync(services, attempts: 1, heartbeatAge: TimeSpan.FromMinutes(5));

        var moved = await Recovery(services, queue).SweepAsync(Ct);

        await using var db = services.NewDb();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId, Ct);
        Assert.Equal(1, moved);
        Assert.Equal(JobStatus.Queued, job.Status);
        Assert.Null(job.WorkerId);
        Assert.Equal(1, job.Attempts);
        Assert.Equal([(jobId, "cpu")], queue.Enqueued);
        Assert.Equal(queue.LastId, job.HangfireJobId);
        Assert.Equal("requeued", (await db.JobEvents.SingleAsync(e => e.JobId == jobId, Ct)).Stage);
    }

    [Fact]
    public async Task SweepAsync_FailsWithWorkerLostAndDeletesBlobs_WhenAttemptsAreExhausted()
    {
        await using var services = await WorkerServices.StartAsync();
        var queue = new RecordingQueue();
        var jobId = await RunningJobAsync(services, attempts: 3, heartbeatAge: TimeSpan.FromMinutes(5));
        var tenantId = await TenantOfAsync(services, jobId);
        await services.Store.UploadAsync(JobArtifacts.CheckpointPrefix(tenantId, jobId) + "layer/tensors.safetensors", new MemoryStream([1]), Ct);
        await services.Store.UploadAsync(JobArtifacts.OutputPrefix(tenantId, jobId) + "model.safetensors", new MemoryStream([1]), Ct);

        await Recovery(services, queue).SweepAsync(Ct);

        await using var db = services.NewDb();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId, Ct);
        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Equal(JobErrorCodes.WorkerLost, job.ErrorCode);
        Assert.NotNull(job.FinishedAt);
        Assert.Empty(queue.Enqueued);
        Assert.Empty(await services.Store.ListAsync(JobArtifacts.CheckpointPrefix(tenantId, jobId), Ct));
        Assert.Empty(await services.Store.ListAsync(JobArtifacts.OutputPrefix(tenantId, jobId), Ct));
    }

    [Fact]
    public async Task SweepAsync_PublishesTerminalEvents_OnlyForJobsItEnds()
    {
        await using var services = await WorkerServices.StartAsync();
        var lost = await RunningJobAsync(services, attempts: 3, heartbeatAge: TimeSpan.FromMinutes(5));
        var requeued = await RunningJobAsync(services, attempts: 1, heartbeatAge: TimeSpan.FromMinutes(5));
        var publisher = new RecordingPublisher();

        await Recovery(services, new RecordingQueue(), publisher).SweepAsync(Ct);

        Assert.Equal([lost], publisher.Published);
        Assert.DoesNotContain(requeued, publisher.Published);
    }

    [Fact]
    public async Task SweepAsync_EndsCancelled_WhenCancellingJobLostItsWorker()
    {
        await using var services = await WorkerServices.StartAsync();
        var jobId = await RunningJobAsync(services, attempts: 1, heartbeatAge: TimeSpan.FromMinutes(5), JobStatus.Cancelling);

        await Recovery(services, new RecordingQueue()).SweepAsync(Ct);

        await using var db = services.NewDb();
        Assert.Equal(JobStatus.Cancelled, (await db.Jobs.SingleAsync(j => j.Id == jobId, Ct)).Status);
    }

    [Fact]
    public async Task SweepAsync_LeavesJobAlone_WhenHeartbeatIsFresh()
    {
        await using var services = await WorkerServices.StartAsync();
        var queue = new RecordingQueue();
        var jobId = await RunningJobAsync(services, attempts: 1, heartbeatAge: TimeSpan.FromSeconds(1));

        var moved = await Recovery(services, queue).SweepAsync(Ct);

        await using var db = services.NewDb();
        Assert.Equal(0, moved);
        Assert.Equal(JobStatus.Running, (await db.Jobs.SingleAsync(j => j.Id == jobId, Ct)).Status);
        Assert.Empty(queue.Enqueued);
    }

    [Fact]
    public async Task SweepAsync_EnqueuesAgain_WhenQueuedJobHasNoLiveQueueEntry()
    {
        await using var services = await WorkerServices.StartAsync();
        var queue = new RecordingQueue();
        var (tenantId, modelId) = await JobRunnerTests.SeedModelAsync(services);
        var orphan = await JobRunnerTests.QueueJobAsync(services, tenantId, modelId, "quantize", "rtn", "{}");
        var live = await JobRunnerTests.QueueJobAsync(services, tenantId, modelId, "quantize", "rtn", "{}");
        await using (var db = services.NewDb())
        {
            await db.Jobs.Where(j => j.Id == orphan || j.Id == live).ExecuteUpdateAsync(s => s
                .SetProperty(j => j.HeartbeatAt, DateTimeOffset.UtcNow.AddMinutes(-5))
                .SetProperty(j => j.HangfireJobId, j => j.Id == live ? RecordingQueue.PendingId : "gone"), Ct);
        }

        await Recovery(services, queue).SweepAsync(Ct);

        Assert.Equal([(orphan, "cpu")], queue.Enqueued);
    }

    private static JobRecovery Recovery(WorkerServices services, IJobQueue queue, IJobEventPublisher? events = null) => new(
        services.Provider.GetRequiredService<DbContextOptions<OptimizerDbContext>>(), services.Store, queue,
        Options.Create(new WorkerOptions { LeaseTimeout = TimeSpan.FromSeconds(60), MaxAttempts = 3 }), NullLogger<JobRecovery>.Instance,
        events);

    private sealed class RecordingPublisher : IJobEventPublisher
    {
        public List<string> Published { get; } = [];

        public Task PublishAsync(string jobId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The sweep writes deliveries in its own transaction (AddDeliveriesAsync).");

        public Task<IReadOnlyList<string>> AddDeliveriesAsync(OptimizerDbContext db, string jobId, CancellationToken cancellationToken)
        {
            Published.Add(jobId);
            return Task.FromResult<IReadOnlyList<string>>([]);
        }

        public void Queue(IReadOnlyList<string> deliveryIds)
        {
        }
    }

    private static async Task<string> RunningJobAsync(WorkerServices services, int attempts, TimeSpan heartbeatAge,
        JobStatus status = JobStatus.Running)
    {
        var (tenantId, modelId) = await JobRunnerTests.SeedModelAsync(services);
        var jobId = await JobRunnerTests.QueueJobAsync(services, tenantId, modelId, "quantize", "rtn", "{}");
        await using var db = services.NewDb();
        await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Status, status)
            .SetProperty(j => j.Attempts, attempts)
            .SetProperty(j => j.WorkerId, "dead-host:1:abc")
            .SetProperty(j => j.HeartbeatAt, DateTimeOffset.UtcNow - heartbeatAge), Ct);
        return jobId;
    }

    private static async Task<string> TenantOfAsync(WorkerServices services, string jobId)
    {
        await using var db = services.NewDb();
        return await db.Jobs.Where(j => j.Id == jobId).Select(j => j.TenantId).SingleAsync(Ct);
    }

    /// <summary>Records what would be enqueued; only <see cref="PendingId"/> counts as a live queue entry.</summary>
    private sealed class RecordingQueue : IJobQueue
    {
        public const string PendingId = "pending";

        public List<(string JobId, string Queue)> Enqueued { get; } = [];
        public string? LastId { get; private set; }

        public string Enqueue(string jobId, string queue)
        {
            Enqueued.Add((jobId, queue));
            LastId = "hf-" + Enqueued.Count;
            return LastId;
        }

        public bool IsPending(string? queueJobId) => queueJobId == PendingId;
    }
}
