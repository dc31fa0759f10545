using Microsoft.EntityFrameworkCore;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Persistence;

namespace Optimizer.Worker.Execution;

/// <summary>
/// The running attempt's one background loop over its job row: every <c>Worker:HeartbeatInterval</c> a single conditional
/// UPDATE renews the lease (<c>heartbeat_at</c>, only while <c>worker_id</c> + <c>attempts</c> still name this attempt)
/// and returns the status, so one round-trip both keeps the job and notices a cancel request.
/// </summary>
/// <remarks>
/// <see cref="Lost"/> fires when the update finds nothing: the recovery sweep took the job away (the heartbeat went
/// stale: a long pause, a lost database), so this attempt stops instead of racing the next one.
/// <see cref="CancelRequested"/> fires when the row is <c>cancelling</c> (the Api is the only writer of that state).
/// </remarks>
public sealed class JobWatch : IAsyncDisposable
{
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _cancel = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public JobWatch(DbContextOptions<OptimizerDbContext> options, string jobId, string workerId, int attempt, TimeSpan interval)
    {
        JobId = jobId;
        WorkerId = workerId;
        Attempt = attempt;
        _loop = Task.Run(() => WatchAsync(options, interval));
    }

    public string JobId { get; }
    public string WorkerId { get; }
    public int Attempt { get; }

    /// <summary>Fires when another attempt (or the sweep) owns the job now.</summary>
    public CancellationToken Lost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    /// <summary>Fires when the user asked to cancel the job (the row is <c>cancelling</c>).</summary>
    public CancellationToken CancelRequested => _cancel.Token;

    public bool IsCancellationRequested => _cancel.IsCancellationRequested;

    /// <summary>This process's worker id: host, process id and a random part (process ids are reused).</summary>
    public static string ProcessWorkerId { get; } =
        $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The job row, only while this attempt still holds it: the fence for every write that must happen once.</summary>
    public IQueryable<Job> Owned(OptimizerDbContext db) => Owned(db.Jobs, JobId, WorkerId, Attempt);

    /// <inheritdoc cref="Owned(OptimizerDbContext)"/>
    public static IQueryable<Job> Owned(IQueryable<Job> jobs, string jobId, string workerId, int attempt) =>
        jobs.Where(j => j.Id == jobId && j.WorkerId == workerId && j.Attempts == attempt
            && (j.Status == JobStatus.Running || j.Status == JobStatus.Cancelling));

    /// <summary>
    /// Renews the lease if this attempt still holds it and returns the status it renewed, or null when the job is not ours.
    /// </summary>
    /// <remarks>Raw SQL because EF's ExecuteUpdate cannot return a column; the names are the mapped ones (see JobWatchTests).</remarks>
    public async Task<JobStatus?> RenewAsync(OptimizerDbContext db, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var running = JobStatus.Running.ToWire();
        var cancelling = JobStatus.Cancelling.ToWire();
        var statuses = await db.Database.SqlQuery<string>($"""
            UPDATE optimizer.jobs SET "HeartbeatAt" = {now}
            WHERE "Id" = {JobId} AND "WorkerId" = {WorkerId} AND "Attempts" = {Attempt} AND "Status" IN ({running}, {cancelling})
            RETURNING "Status" AS "Value"
            """).ToListAsync(cancellationToken);
        return statuses.Count == 1 && JobStatusExtensions.TryParseWire(statuses[0], out var status) ? status : null;
    }

    private async Task WatchAsync(DbContextOptions<OptimizerDbContext> options, TimeSpan interval)
    {
        await using var db = new OptimizerDbContext(options);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _stop.Token);
                var status = await RenewAsync(db, _stop.Token);
                if (status is null)
                {
                    await _lost.CancelAsync();
                    return;
                }
                if (status == JobStatus.Cancelling && !_cancel.IsCancellationRequested)
                {
                    // Keep renewing while the pipeline winds down, so the sweep does not take a job that is cancelling.
                    await _cancel.CancelAsync();
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (!_stop.IsCancellationRequested)
            {
                // A transient database error (PostgreSQL restarting): keep trying. If it lasts past the lease timeout the
                // sweep takes the job and the first renewal that gets through finds nothing to renew.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _cancel.Dispose();
        _lost.Dispose();
    }
}
