using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Tests.Support;

/// <summary>Dies (as a killed worker would, mid-run) when a progress message starts with the given text.</summary>
public sealed class CrashingProgress(string crashAt) : IProgressReporter
{
    public Task ReportAsync(string stage, double fraction, string? message, CancellationToken cancellationToken) =>
        message?.StartsWith(crashAt, StringComparison.Ordinal) == true ? throw new IOException("worker died") : Task.CompletedTask;

    public Task EventAsync(string level, string stage, string message, object? data, CancellationToken cancellationToken) => Task.CompletedTask;
}
