using Microsoft.EntityFrameworkCore;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Persistence;

namespace Optimizer.Worker.Execution;

/// <summary>Events written outside a running attempt (by the recovery sweep), after whatever the attempts wrote.</summary>
public static class JobEvents
{
    /// <summary>Appends one event with the next sequence number; a failure (e.g. a racing writer took the number) is swallowed.</summary>
    public static async Task TryAppendAsync(OptimizerDbContext db, string jobId, string level, string stage, string message, string? dataJson)
    {
        try
        {
            var last = await db.JobEvents.Where(e => e.JobId == jobId).MaxAsync(e => (long?)e.Seq) ?? 0;
            db.JobEvents.Add(new JobEvent(jobId, last + 1, level, stage, message, dataJson));
            await db.SaveChangesAsync();
        }
        catch (Exception)
        {
            // The status change is what matters and is already saved; the event is a courtesy.
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }
}
