using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Optimizer.Domain.Telemetry;

namespace Optimizer.Worker.Execution;

/// <summary>Runs <see cref="JobRecovery"/> at start-up and then every <c>Worker:RecoverySweepInterval</c>.</summary>
/// <remarks>Every worker sweeps: with any one alive, a job whose worker died is recovered.</remarks>
public sealed partial class RecoveryService(IServiceProvider services, IOptions<WorkerOptions> options, ILogger<RecoveryService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var logScope = logger.BeginBackgroundScope("recovery-sweep");
        await using var scope = services.CreateAsyncScope();
        var recovery = ActivatorUtilities.CreateInstance<JobRecovery>(scope.ServiceProvider);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var moved = await recovery.SweepAsync(stoppingToken);
                if (moved > 0)
                {
                    LogSwept(moved);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The database may be down for a moment; the next sweep tries again.
                LogSweepFailed(ex);
            }
            try
            {
                await Task.Delay(options.Value.RecoverySweepInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovery sweep moved {Count} job(s) whose worker was lost")]
    private partial void LogSwept(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery sweep failed; retrying at the next interval")]
    private partial void LogSweepFailed(Exception exception);
}
