namespace Optimizer.Domain.Jobs;

/// <summary>
/// <c>queued → running → succeeded | failed | cancelled</c>; <c>queued → cancelled</c>;
/// <c>running → cancelling → cancelled</c>. Terminal states never change.
/// </summary>
public enum JobStatus
{
    Queued,
    Running,
    Cancelling,
    Succeeded,
    Failed,
    Cancelled,
}

public static class JobStatusExtensions
{
    /// <summary>The one place that says which states are final.</summary>
    public static bool IsTerminal(this JobStatus status) =>
        status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;

    public static string ToWire(this JobStatus status) => status switch
    {
        JobStatus.Queued => "queued",
        JobStatus.Running => "running",
        JobStatus.Cancelling => "cancelling",
        JobStatus.Succeeded => "succeeded",
        JobStatus.Failed => "failed",
        JobStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static bool TryParseWire(string? value, out JobStatus status)
    {
        foreach (var candidate in Enum.GetValues<JobStatus>())
        {
            if (candidate.ToWire() == value)
            {
                status = candidate;
                return true;
            }
        }
        status = default;
        return false;
    }
}
