namespace Optimizer.Domain.Jobs;

/// <summary>One ordered log event of a job (<c>seq</c> starts at 1 per job).</summary>
public sealed class JobEvent
{
    private JobEvent()
    {
    }

    public JobEvent(string jobId, long seq, string level, string stage, string message, string? dataJson = null)
    {
        JobId = jobId;
        Seq = seq;
        Level = level;
        Stage = stage;
        Message = message;
        DataJson = dataJson;
        At = DateTimeOffset.UtcNow;
    }

    public long Id { get; private set; }
    public string JobId { get; private set; } = "";
    public long Seq { get; private set; }
    public DateTimeOffset At { get; private set; }
    public string Level { get; private set; } = "info";
    public string Stage { get; private set; } = "";
    public string Message { get; private set; } = "";
    public string? DataJson { get; private set; }
}
