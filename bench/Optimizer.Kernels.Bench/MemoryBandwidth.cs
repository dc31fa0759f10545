using System.Numerics;
using BenchmarkDotNet.Attributes;

namespace Optimizer.Kernels.Bench;

/// <summary>
/// This machine's read bandwidth, measured in the same run as the kernels: a vectorized sum over 1 GiB (far beyond every
/// cache) split across all cores. A memory-bound GEMV cannot stream its weights faster than this.
/// </summary>
public class MemoryBandwidth
{
    public const long Bytes = 1L << 30;
    private float[] _data = [];

    [GlobalSetup]
    public void Setup()
    {
        _data = new float[Bytes / sizeof(float)];
        // Touch every page so the timed reads never fault.
        _data.AsSpan().Fill(1f);
    }

    [Benchmark(Description = "stream read 1 GiB")]
    public float StreamRead()
    {
        var parts = Environment.ProcessorCount;
        var sums = new float[parts];
        var length = _data.Length / parts;
        Parallel.For(0, parts, part =>
        {
            var span = _data.AsSpan(part * length, length);
            var acc = Vector<float>.Zero;
            for (var k = 0; k + Vector<float>.Count <= span.Length; k += Vector<float>.Count)
            {
                acc += new Vector<float>(span.Slice(k));
            }
            sums[part] = Vector.Sum(acc);
        });
        return sums.Sum();
    }
}
