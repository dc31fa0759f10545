using Microsoft.EntityFrameworkCore;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Persistence;

namespace Optimizer.Worker.Execution;

/// <summary>Polls the job row and cancels <see cref="Token"/> once the Api has set it to <c>cancelling</c>.</summary>
/// <remarks>Polling (about once a second) keeps the Api and Worker decoupled: the row is the only signal.</remarks>
public sealed class CancellationWatcher : IAsyncDisposable
{
    private readonly CancellationTokenSource _requested = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public CancellationWatcher(DbContextOptions<OptimizerDbContext> options, string jobId, TimeSpan interval)
    {
        _loop = Task.Run(() => PollAsync(options, jobId, interval));
    }

    /// <summary>Fires when the user asked to cancel the job.</summary>
    public CancellationToken Token => _requested.Token;

    public bool IsCancellationRequested => _requested.IsCancellationRequested;

    private async Task PollAsync(DbContextOptions<OptimizerDbContext> options, string jobId, TimeSpan interval)
    {
        await using var db = new OptimizerDbContext(options);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _stop.Token);
                var status = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => j.Status)
                    .FirstOrDefaultAsync(_stop.Token);
                if (status is JobStatus.Cancelling or JobStatus.Cancelled)
                {
                    await _requested.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (!_stop.IsCancellationRequested)
            {
                // A transient database error must not kill the job; try again at the next tick.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _requested.Dispose();
    }
}
