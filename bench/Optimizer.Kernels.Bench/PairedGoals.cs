using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace Optimizer.Kernels.Bench;

/// <summary>
/// The goals checked a second way: each of our kernels and its llama.cpp peer timed in alternating rounds (ours then
/// peer, then peer then ours, …) with the medians compared. This VM shares its cache and memory with other tenants: the
/// measured read bandwidth moved between 13 and 19 GB/s from one run to the next, and BenchmarkDotNet's cases of one pair
/// run tens of seconds apart, so a neighbour's burst can land on one side only. Interleaving puts both sides under the
/// same conditions; the round count where ours was faster says how settled the verdict is. Each block starts after a
/// pause long enough for the other side's idle threads to stop spinning (llama.cpp's and libtorch's OpenMP workers spin
/// for milliseconds after a call, on a core the next kernel needs), and both sides are warmed up first (tier-1 JIT).
/// </summary>
internal static class PairedGoals
{
    private const int Rounds = 21;

    /// <summary>Each timed block of calls lasts about this long.</summary>
    private static readonly TimeSpan BlockTime = TimeSpan.FromMilliseconds(40);

    /// <summary>Calls before the rounds: enough for tiered compilation to reach the optimized code of our kernels.</summary>
    private static readonly TimeSpan WarmupTime = TimeSpan.FromMilliseconds(500);

    /// <summary>The quiet time before each block (libgomp's default spin is a few milliseconds).</summary>
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(30);

    public static void Print(IReadOnlyList<string> shapes, IReadOnlyList<int> batches, Func<string, bool> selected)
    {
        Console.WriteLine();
        Console.WriteLine($"Goals, paired (medians of {Rounds} interleaved rounds of ~{BlockTime.TotalMilliseconds:F0} ms per side):");
        foreach (var shape in shapes)
        {
            foreach (var batch in batches)
            {
                var bench = new MatMulBenchmarks { Shape = shape, Batch = batch };
                bench.Setup();
                foreach (var (ours, peers) in KernelTable.Goals.Where(g => selected(g.Ours)))
                {
                    foreach (var peer in peers.Where(selected))
                    {
                        var (oursNs, peerNs, wins) = Compare(Kernel(bench, ours), Kernel(bench, peer));
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"- {shape} batch {batch}: {ours} {oursNs / 1000:F0} µs vs {peer} {peerNs / 1000:F0} µs: "
                            + $"{(oursNs < peerNs ? "faster" : "NOT faster")} ({peerNs / oursNs:F2}x; ours faster in {wins}/{Rounds} rounds)"));
                    }
                }
            }
        }
    }

    /// <summary>The benchmark method with this description, bound to <paramref name="bench"/>: the very code BenchmarkDotNet times.</summary>
    private static Action Kernel(MatMulBenchmarks bench, string description) =>
        typeof(MatMulBenchmarks).GetMethods()
            .Single(m => m.GetCustomAttribute<BenchmarkAttribute>()?.Description == description)
            .CreateDelegate<Action>(bench);

    private static (double OursNs, double PeerNs, int Wins) Compare(Action ours, Action peer)
    {
        var calls = CallsPerBlock(ours, peer);
        var oursTimes = new double[Rounds];
        var peerTimes = new double[Rounds];
        var wins = 0;
        for (var round = 0; round < Rounds; round++)
        {
            if (round % 2 == 0)
            {
                oursTimes[round] = Time(ours, calls);
                peerTimes[round] = Time(peer, calls);
            }
            else
            {
                peerTimes[round] = Time(peer, calls);
                oursTimes[round] = Time(ours, calls);
            }
            wins += oursTimes[round] < peerTimes[round] ? 1 : 0;
        }
        return (Median(oursTimes), Median(peerTimes), wins);
    }

    /// <summary>Warms both kernels, then sizes a block so the slower one takes about <see cref="BlockTime"/>.</summary>
    private static int CallsPerBlock(Action ours, Action peer)
    {
        var slowest = 0.0;
        foreach (var kernel in new[] { ours, peer })
        {
            for (var start = Stopwatch.GetTimestamp(); Stopwatch.GetElapsedTime(start) < WarmupTime;)
            {
                kernel();
            }
            slowest = Math.Max(slowest, Time(kernel, 5));
        }
        return (int)Math.Clamp(BlockTime.TotalNanoseconds / slowest, 3, 10_000);
    }

    /// <summary>Nanoseconds per call over <paramref name="calls"/> back-to-back calls.</summary>
    private static double Time(Action kernel, int calls)
    {
        Thread.Sleep(Pause);
        var start = Stopwatch.GetTimestamp();
        for (var k = 0; k < calls; k++)
        {
            kernel();
        }
        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / calls;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
