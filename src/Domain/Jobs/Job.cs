using Optimizer.Domain.Common;

namespace Optimizer.Domain.Jobs;

/// <summary>One optimization job. All state lives here; Hangfire only carries the id.</summary>
public sealed class Job
{
    public const int MaxNameLength = 200;

    private Job()
    {
    }

    public Job(string tenantId, string type, string method, string paramsJson)
    {
        Id = Ids.New("job");
        TenantId = tenantId;
        Type = type;
        Method = method;
        ParamsJson = paramsJson;
        Status = JobStatus.Queued;
        CreatedAt = DateTimeOffset.UtcNow;
    }

    public string Id { get; private set; } = "";
    public string TenantId { get; private set; } = "";
    public string Type { get; private set; } = "";
    public string Method { get; private set; } = "";
    public string? Name { get; set; }
    public JobStatus Status { get; private set; }
    /// <summary>Source model (all types but merge).</summary>
    public string? ModelId { get; set; }
    /// <summary>Merge inputs as JSON <c>[{model_id, weight}]</c> (null for other types).</summary>
    public string? ModelsJson { get; set; }
    public string? BaseModelId { get; set; }
    /// <summary>Method params as validated JSON, defaults filled in.</summary>
    public string ParamsJson { get; private set; } = "{}";
    public string? CalibrationDatasetId { get; set; }
    /// <summary>The optional <c>evaluation</c> block as JSON.</summary>
    public string? EvaluationJson { get; set; }
    public List<string> NotifyUrls { get; set; } = [];
    /// <summary>Signs the deliveries to <see cref="NotifyUrls"/> (<c>whsec_…</c>; shown in the create response); null without notify URLs.</summary>
    public string? NotifySecret { get; set; }
    public string Queue { get; set; } = "cpu";
    public string? ProgressStage { get; private set; }
    public double ProgressFraction { get; private set; }
    public string? ProgressMessage { get; private set; }
    public int Attempts { get; private set; }
    public string? ErrorCode { get; private set; }
    public string? ErrorMessage { get; private set; }
    public string? OutputModelId { get; private set; }
    public string? ReportId { get; private set; }
    public string MetricsJson { get; set; } = "{}";
    public string? HangfireJobId { get; set; }
    /// <summary>
    /// W3C <c>traceparent</c> of the request that submitted the job (null when that request was not traced): every attempt's
    /// <c>job.run</c> span is its child, so the submission and the run are one trace however often the job is re-queued.
    /// </summary>
    public string? TraceParent { get; set; }
    /// <summary>The worker holding the running attempt's lease (null unless running or cancelling).</summary>
    public string? WorkerId { get; private set; }
    /// <summary>
    /// Last lease renewal of the running attempt; for a job handed back to the queue, when that happened.
    /// A running job whose heartbeat is older than the lease timeout has lost its worker.
    /// </summary>
    public DateTimeOffset? HeartbeatAt { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset? StartedAt { get; private set; }
    public DateTimeOffset? FinishedAt { get; private set; }

    public void MarkRunning()
    {
        if (Status != JobStatus.Queued)
        {
            throw new OptimizerDomainException($"Job {Id} is {Status.ToWire()}, not queued.");
        }
        Status = JobStatus.Running;
        Attempts++;
        StartedAt ??= DateTimeOffset.UtcNow;
    }

    public void ReportProgress(string stage, double fraction, string? message)
    {
        ProgressStage = stage;
        ProgressFraction = Math.Clamp(fraction, 0, 1);
        ProgressMessage = message;
    }

    public void MarkSucceeded(string? outputModelId, string? reportId)
    {
        EnsureActive();
        Status = JobStatus.Succeeded;
        OutputModelId = outputModelId;
        ReportId = reportId;
        ProgressFraction = 1;
        FinishedAt = DateTimeOffset.UtcNow;
    }

    public void MarkFailed(string code, string message)
    {
        EnsureActive();
        Status = JobStatus.Failed;
        ErrorCode = code;
        ErrorMessage = message;
        FinishedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>A queued job is cancelled at once; a running one is asked to stop at its next boundary.</summary>
    public void RequestCancel()
    {
        Status = Status switch
        {
            JobStatus.Queued => JobStatus.Cancelled,
            JobStatus.Running => JobStatus.Cancelling,
            JobStatus.Cancelling => JobStatus.Cancelling,
            _ => throw new OptimizerDomainException($"Job {Id} is already {Status.ToWire()}."),
        };
        if (Status == JobStatus.Cancelled)
        {
            FinishedAt = DateTimeOffset.UtcNow;
        }
    }

    public void MarkCancelled()
    {
        EnsureActive();
        Status = JobStatus.Cancelled;
        FinishedAt = DateTimeOffset.UtcNow;
    }

    private void EnsureActive()
    {
        if (Status.IsTerminal())
        {
            throw new OptimizerDomainException($"Job {Id} is already {Status.ToWire()}.");
        }
    }
}
