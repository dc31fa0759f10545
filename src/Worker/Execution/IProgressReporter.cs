namespace Optimizer.Worker.Execution;

/// <summary>Progress and log events of the running job, visible through <c>GET /v1/jobs/{id}</c> and its events.</summary>
public interface IProgressReporter
{
    /// <summary>Sets the job's progress (stage, fraction in [0, 1], message). Cheap enough to call per layer.</summary>
    Task ReportAsync(string stage, double fraction, string? message, CancellationToken cancellationToken);

    /// <summary>Appends one ordered event (<c>level</c>: info, warning, error).</summary>
    Task EventAsync(string level, string stage, string message, object? data, CancellationToken cancellationToken);
}
