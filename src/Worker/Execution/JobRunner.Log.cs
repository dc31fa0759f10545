using Microsoft.Extensions.Logging;

namespace Optimizer.Worker.Execution;

public sealed partial class JobRunner
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} skipped: it is {Status}")]
    private partial void LogSkipped(string jobId, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} started: {Type}/{Method}, attempt {Attempt} on {WorkerId}")]
    private partial void LogStarted(string jobId, string type, string method, int attempt, string workerId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} attempt ended {Outcome} after {Seconds:0.###} s")]
    private partial void LogEnded(string jobId, string outcome, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} failed with {Code}")]
    private partial void LogFailed(Exception exception, string jobId, string code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not clean up {Location}")]
    private partial void LogCleanupFailed(Exception exception, string location);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not record the final status of job {JobId}")]
    private partial void LogFinishFailed(Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: attempt {Attempt} lost its lease; another attempt owns the job")]
    private partial void LogLeaseLost(string jobId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the final status of job {JobId} (try {Try}); PostgreSQL unreachable, retrying")]
    private partial void LogFinishRetry(Exception exception, string jobId, int @try);
}
