using System.Diagnostics;

namespace Optimizer.Bench.Quantize;

/// <summary>Samples this process's resident set every 5 ms (TorchSharp's native tensors included) while it is alive.</summary>
internal sealed class PeakMemory : IDisposable
{
    private readonly long _baseline;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampler;
    private long _peak;

    private PeakMemory()
    {
        _baseline = Current();
        _peak = _baseline;
        _sampler = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                _peak = Math.Max(_peak, Current());
                await Task.Delay(5).ConfigureAwait(false);
            }
        });
    }

    /// <summary>Peak resident set above the one at <see cref="Start"/>, in bytes.</summary>
    public long PeakDeltaBytes => Math.Max(Math.Max(_peak, Current()) - _baseline, 0);

    public static PeakMemory Start() => new();

    public void Dispose()
    {
        _stop.Cancel();
        _sampler.Wait();
        _stop.Dispose();
    }

    private static long Current()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
