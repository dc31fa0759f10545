using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Tests.Support;

/// <summary>An in-memory <see cref="IProgressReporter"/> that remembers what it was told.</summary>
public sealed class RecordingProgress : IProgressReporter
{
    public List<(string Stage, double Fraction, string? Message)> Reports { get; } = [];
    public List<(string Level, string Stage, string Message)> Events { get; } = [];

    public Task ReportAsync(string stage, double fraction, string? message, CancellationToken cancellationToken)
    {
        lock (Reports)
        {
            Reports.Add((stage, fraction, message));
        }
        return Task.CompletedTask;
    }

    public Task EventAsync(string level, string stage, string message, object? data, CancellationToken cancellationToken)
    {
        lock (Events)
        {
            Events.Add((level, stage, message));
        }
        return Task.CompletedTask;
    }
}
