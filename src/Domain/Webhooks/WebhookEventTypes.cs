using Optimizer.Domain.Jobs;

namespace Optimizer.Domain.Webhooks;

/// <summary>The event types of API.md (Webhooks).</summary>
public static class WebhookEventTypes
{
    public const string JobSucceeded = "job.succeeded";
    public const string JobFailed = "job.failed";
    public const string JobCancelled = "job.cancelled";
    public const string ModelReady = "model.ready";
    public const string ReportReady = "report.ready";

    public static readonly IReadOnlyList<string> All = [JobSucceeded, JobFailed, JobCancelled, ModelReady, ReportReady];

    /// <summary>The <c>job.*</c> event of a terminal status, or null for a job still in progress.</summary>
    public static string? ForStatus(JobStatus status) => status switch
    {
        JobStatus.Succeeded => JobSucceeded,
        JobStatus.Failed => JobFailed,
        JobStatus.Cancelled => JobCancelled,
        _ => null,
    };
}
