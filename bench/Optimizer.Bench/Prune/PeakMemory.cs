using System.Diagnostics;

namespace Optimizer.Bench.Prune;

/// <summary>Samples the process's resident set every 10 ms until stopped (TorchSharp's native tensors included).</summary>
internal sealed class PeakMemory : IDisposable
{
    private readonly Timer _timer;
    private long _peak;

    public PeakMemory()
    {
        _peak = Current();
        _timer = new Timer(_ => Sample(), null, 0, 10);
    }

    /// <summary>Stops sampling and returns the peak resident set in bytes.</summary>
    public long Stop()
    {
        _timer.Change(Timeout.Infinite, Timeout.Infinite);
        Sample();
        return Interlocked.Read(ref _peak);
    }

    public void Dispose() => _timer.Dispose();

    private void Sample()
    {
        var now = Current();
        long seen;
        do
        {
            seen = Interlocked.Read(ref _peak);
        }
        while (now > seen && Interlocked.CompareExchange(ref _peak, now, seen) != seen);
    }

    private static long Current()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
