namespace Optimizer.Worker.Execution;

/// <summary>A failure with a stable, documented error code (<c>Job.ErrorCode</c>).</summary>
public sealed class JobFailedException(string code, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Code { get; } = code;
}

/// <summary>The error codes a job can end with.</summary>
public static class JobErrorCodes
{
    /// <summary>The source model is missing, malformed, or not something the method handles.</summary>
    public const string InvalidModel = "invalid_model";
    /// <summary>A dataset is missing or unusable.</summary>
    public const string InvalidDataset = "invalid_dataset";
    /// <summary>The params do not fit this model (e.g. group size does not divide any layer).</summary>
    public const string InvalidParams = "invalid_params";
    /// <summary>No pipeline in this worker serves the job's method.</summary>
    public const string UnsupportedMethod = "unsupported_method";
    public const string OutOfMemory = "out_of_memory";
    /// <summary>The job's worker died (no heartbeat) on every one of <c>Worker:MaxAttempts</c> attempts.</summary>
    public const string WorkerLost = "worker_lost";
    public const string InternalError = "internal_error";

    /// <summary>Maps an exception the runner caught to a code.</summary>
    public static string Classify(Exception exception) => exception switch
    {
        JobFailedException failed => failed.Code,
        OutOfMemoryException or InsufficientMemoryException => OutOfMemory,
        _ when exception.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) => OutOfMemory,
        Optimizer.Domain.Formats.Safetensors.SafetensorsFormatException => InvalidModel,
        InvalidDataException => InvalidModel,
        _ => InternalError,
    };
}
