using System.Globalization;
using BenchmarkDotNet.Reports;
using Optimizer.Kernels.Bench.Ggml;

namespace Optimizer.Kernels.Bench;

/// <summary>Prints the README table from BenchmarkDotNet's summaries: time, achieved bytes/s against the measured bandwidth, speed-ups.</summary>
internal static class KernelTable
{
    /// <summary>Our kernel and the llama.cpp kernels of the same bit width it must beat.</summary>
    internal static readonly (string Ours, string[] Peers)[] Goals =
    [
        ("ours int4 g128", ["llama.cpp Q4_0", "llama.cpp Q4_K"]),
        ("ours int8", ["llama.cpp Q8_0"]),
        ("ours fp4 e2m1 g32", ["llama.cpp MXFP4"]),
        ("ours ternary 1-plane", ["llama.cpp TQ1_0", "llama.cpp TQ2_0"]),
    ];

    public static void Print(Summary[] summaries)
    {
        var reports = summaries.SelectMany(s => s.Reports).Where(r => r.ResultStatistics is not null).ToList();
        var bandwidth = reports.Where(r => r.BenchmarkCase.Descriptor.Type == typeof(MemoryBandwidth))
            .Select(r => MemoryBandwidth.Bytes / r.ResultStatistics!.Mean).FirstOrDefault();
        Console.WriteLine();
        Console.WriteLine($"memory read bandwidth (stream read of 1 GiB, all cores): {bandwidth:F2} GB/s");
        Console.WriteLine();
        Console.WriteLine("| shape (out x in) | batch | kernel | time µs | weight MB | GB/s | % of bandwidth | vs torch fp32 |");
        Console.WriteLine("|---|---:|---|---:|---:|---:|---:|---:|");
        var times = new Dictionary<(string, int, string), double>();
        foreach (var report in reports.Where(r => r.BenchmarkCase.Descriptor.Type == typeof(MatMulBenchmarks)))
        {
            var shape = (string)report.BenchmarkCase.Parameters["Shape"];
            var batch = (int)report.BenchmarkCase.Parameters["Batch"];
            var kernel = report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\'');
            times[(shape, batch, kernel)] = report.ResultStatistics!.Mean;
        }
        foreach (var ((shape, batch, kernel), ns) in times.OrderBy(t => t.Key.Item1).ThenBy(t => t.Key.Item2))
        {
            var bytes = WeightBytes(shape, batch, kernel);
            var gbs = bytes / ns;
            var torch = times.GetValueOrDefault((shape, batch, "torch fp32"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {shape} | {batch} | {kernel} | {ns / 1000:F0} | {bytes / 1e6:F1} | {gbs:F1} | {100 * gbs / bandwidth:F0} % | {torch / ns:F2}x |"));
        }
        Console.WriteLine();
        Console.WriteLine("Goals (issue 8):");
        foreach (var ((shape, batch, kernel), ns) in times.Where(t => Goals.Any(g => g.Ours == t.Key.Item3)))
        {
            foreach (var peer in Goals.First(g => g.Ours == kernel).Peers)
            {
                if (times.TryGetValue((shape, batch, peer), out var peerNs))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"- {shape} batch {batch}: {kernel} {ns / 1000:F0} µs vs {peer} {peerNs / 1000:F0} µs: {(ns < peerNs ? "faster" : "NOT faster")} ({peerNs / ns:F2}x)"));
                }
            }
        }
        foreach (var shape in times.Keys.Select(k => k.Item1).Distinct())
        {
            if (times.TryGetValue((shape, 1, "ours int4 g128"), out var ours) && times.TryGetValue((shape, 1, "torch fp32"), out var torch))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"- {shape} batch 1: int4 {torch / ours:F2}x faster than torch fp32 (goal ≥ 4x): {(torch / ours >= 4 ? "holds" : "DOES NOT HOLD")}"));
            }
        }
        Console.WriteLine("- llama.cpp has no FP8 CPU type to set beside ours; the 2-plane ternary (PTQTP) has no llama.cpp counterpart.");
    }

    private static double WeightBytes(string shape, int batch, string kernel)
    {
        var parts = shape.Split('x');
        var c = KernelCase.Get(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), batch);
        return kernel switch
        {
            "torch fp32" => 4.0 * c.Weight.LongLength,
            "ours int4 g128" => c.Int4.WeightBytes,
            "ours int8" => c.Int8.WeightBytes,
            "ours fp4 e2m1 g32" => c.Fp4.WeightBytes,
            "ours fp8 e4m3" => c.Fp8.WeightBytes,
            "ours ternary 1-plane" => c.Ternary1.WeightBytes,
            "ours ternary 2-plane" => c.Ternary2.WeightBytes,
            "llama.cpp MXFP4" => c.Ggml(GgmlNative.TypeMXFP4).WeightBytes,
            "llama.cpp F32" => c.Ggml(GgmlNative.TypeF32).WeightBytes,
            "llama.cpp Q4_0" => c.Ggml(GgmlNative.TypeQ4_0).WeightBytes,
            "llama.cpp Q4_K" => c.Ggml(GgmlNative.TypeQ4_K).WeightBytes,
            "llama.cpp Q8_0" => c.Ggml(GgmlNative.TypeQ8_0).WeightBytes,
            "llama.cpp TQ1_0" => c.Ggml(GgmlNative.TypeTQ1_0).WeightBytes,
            "llama.cpp TQ2_0" => c.Ggml(GgmlNative.TypeTQ2_0).WeightBytes,
            _ => double.NaN,
        };
    }
}
