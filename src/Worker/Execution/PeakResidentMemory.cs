using System.Diagnostics;

namespace Optimizer.Worker.Execution;

/// <summary>
/// The worker process's peak resident memory (Linux <c>VmHWM</c>) over one job: what a container's memory limit must
/// allow, reported as the job metric <c>peak_memory_bytes</c> so the preflight estimate can be checked against it.
/// </summary>
/// <remarks>
/// The kernel keeps one high-water mark per process; writing <c>5</c> to <c>/proc/self/clear_refs</c> resets it to the
/// current resident size, so the mark read at the end covers this job only — when it is the only job in the process
/// (<c>Worker:Count</c> 1). The worker keeps its freed heap (<see cref="Hosting.NativeAllocatorTuning"/>), so the value
/// includes what earlier jobs left resident: it is the memory the process really held, never less than the job needed.
/// </remarks>
internal static class PeakResidentMemory
{
    private const string ClearRefs = "/proc/self/clear_refs";

    /// <summary>Resets the mark to the current resident size; false where it cannot (not Linux, or a restricted <c>/proc</c>).</summary>
    public static bool TryReset()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            File.WriteAllText(ClearRefs, "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The peak resident bytes since the last <see cref="TryReset"/> (or the process start).</summary>
    public static long Read()
    {
        using var process = Process.GetCurrentProcess();
        // On Linux .NET reads VmHWM for the peak working set.
        return process.PeakWorkingSet64;
    }
}
