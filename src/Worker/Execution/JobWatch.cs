using Microsoft.EntityFrameworkCore;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Persistence;

namespace Optimizer.Worker.Execution;

/// <summary>
/// The running attempt's hold on its job row: <c>worker_id</c> + <c>attempts</c> name the holder, <c>heartbeat_at</c> is
/// renewed every <c>Worker:HeartbeatInterval</c>. When the recovery sweep has taken the job away (the heartbeat went
/// stale: a long pause, a lost database), the next renewal finds nothing and <see cref="Lost"/> fires, so this attempt
/// stops instead of racing the next one.
/// </summary>
public sealed class JobLease : IAsyncDisposable
{
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public JobLease(DbContextOptions<OptimizerDbContext> options, string jobId, string workerId, int attempt, TimeSpan interval)
    {
        JobId = jobId;
        WorkerId = workerId;
        Attempt = attempt;
        _loop = Task.Run(() => RenewAsync(options, interval));
    }

    public string JobId { get; }
    public string WorkerId { get; }
    public int Attempt { get; }

    /// <summary>Fires when another attempt (or the sweep) owns the job now.</summary>
    public CancellationToken Lost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    /// <summary>This process's worker id: host, process id and a random part (process ids are reused).</summary>
    public static string ProcessWorkerId { get; } =
        $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The job row, only while this attempt still holds it: the fence for every write that must happen once.</summary>
    public IQueryable<Job> Owned(OptimizerDbContext db) => Owned(db.Jobs, JobId, WorkerId, Attempt);

    /// <inheritdoc cref="Owned(OptimizerDbContext)"/>
    public static IQueryable<Job> Owned(IQueryable<Job> jobs, string jobId, string workerId, int attempt) =>
        jobs.Where(j => j.Id == jobId && j.WorkerId == workerId && j.Attempts == attempt
            && (j.Status == JobStatus.Running || j.Status == JobStatus.Cancelling));

    private async Task RenewAsync(DbContextOptions<OptimizerDbContext> options, TimeSpan interval)
    {
        await using var db = new OptimizerDbContext(options);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _stop.Token);
                var now = DateTimeOffset.UtcNow;
                var renewed = await Owned(db).ExecuteUpdateAsync(s => s.SetProperty(j => j.HeartbeatAt, now), _stop.Token);
                if (renewed == 0)
                {
                    await _lost.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (!_stop.IsCancellationRequested)
            {
                // A transient database error: keep trying. If it lasts past the lease timeout the sweep takes the job
                // and the first renewal that gets through finds nothing to renew.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _lost.Dispose();
    }
}
