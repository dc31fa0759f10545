using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Tests.Support;

/// <summary>Dies (as a killed worker would, mid-run) on the first progress report that <c>dies</c> picks.</summary>
public sealed class CrashingProgress(Func<string?, bool> dies) : IProgressReporter
{
    /// <summary>Dies when a progress message starts with <paramref name="messageStart"/>.</summary>
    public CrashingProgress(string messageStart) : this(message => message?.StartsWith(messageStart, StringComparison.Ordinal) == true)
    {
    }

    /// <summary>Dies on the <paramref name="count"/>-th progress report.</summary>
    public static CrashingProgress OnReport(int count)
    {
        var seen = 0;
        return new CrashingProgress(_ => Interlocked.Increment(ref seen) == count);
    }

    public Task ReportAsync(string stage, double fraction, string? message, CancellationToken cancellationToken) =>
        dies(message) ? throw new IOException("worker died") : Task.CompletedTask;

    public Task EventAsync(string level, string stage, string message, object? data, CancellationToken cancellationToken) => Task.CompletedTask;
}
