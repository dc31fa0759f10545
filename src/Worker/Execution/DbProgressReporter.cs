using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Optimizer.Domain.Common;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Persistence;

namespace Optimizer.Worker.Execution;

/// <summary>Writes progress to the job row and events to <c>job_events</c> through its own context.</summary>
/// <remarks>
/// Progress is a column update (<c>ExecuteUpdate</c>), never a save of a tracked job: the Api may have set
/// <c>cancelling</c> meanwhile and a tracked save must not write the status back. Calls are serialized so
/// event sequence numbers stay increasing even if a pipeline reports from several threads. A database error (PostgreSQL
/// restarting) loses that one report or event but never the job: progress is a courtesy, and the lease and the final save
/// have their own handling of an outage.
/// </remarks>
public sealed class DbProgressReporter : IProgressReporter, IAsyncDisposable
{
    private readonly OptimizerDbContext _db;
    private readonly string _jobId;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _seq;

    private DbProgressReporter(OptimizerDbContext db, string jobId, long lastSeq)
    {
        _db = db;
        _jobId = jobId;
        _seq = lastSeq;
    }

    /// <summary>Continues the job's event sequence after whatever a previous attempt wrote.</summary>
    public static async Task<DbProgressReporter> CreateAsync(DbContextOptions<OptimizerDbContext> options, string jobId,
        CancellationToken cancellationToken)
    {
        var db = new OptimizerDbContext(options);
        var last = await db.JobEvents.Where(e => e.JobId == jobId).MaxAsync(e => (long?)e.Seq, cancellationToken) ?? 0;
        return new DbProgressReporter(db, jobId, last);
    }

    public async Task ReportAsync(string stage, double fraction, string? message, CancellationToken cancellationToken)
    {
        var clamped = Math.Clamp(fraction, 0, 1);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await _db.Jobs.Where(j => j.Id == _jobId).ExecuteUpdateAsync(s => s
                .SetProperty(j => j.ProgressStage, stage)
                .SetProperty(j => j.ProgressFraction, clamped)
                .SetProperty(j => j.ProgressMessage, message), cancellationToken);
        }
        catch (Exception ex) when (IsDatabaseError(ex))
        {
            // The next report overwrites this one anyway.
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task EventAsync(string level, string stage, string message, object? data, CancellationToken cancellationToken)
    {
        var dataJson = data is null ? null : JsonSerializer.Serialize(data, OptimizerJson.Options);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // The number is used up even if the save fails (it may have committed before the connection broke).
            _seq++;
            _db.JobEvents.Add(new JobEvent(_jobId, _seq, level, stage, message, dataJson));
            await _db.SaveChangesAsync(cancellationToken);
        }
        catch (Exception ex) when (IsDatabaseError(ex))
        {
            // A lost event leaves a gap in the sequence; readers page by seq, so a gap is harmless.
        }
        finally
        {
            _db.ChangeTracker.Clear();
            _gate.Release();
        }
    }

    /// <summary>PostgreSQL unreachable, restarting or refusing the statement; not a cancellation, not a bug of ours.</summary>
    private static bool IsDatabaseError(Exception ex) =>
        ex is NpgsqlException || (ex is DbUpdateException && ex.InnerException is NpgsqlException)
        || (ex is InvalidOperationException && ex.InnerException is NpgsqlException);

    public async ValueTask DisposeAsync()
    {
        await _db.DisposeAsync();
        _gate.Dispose();
    }
}
