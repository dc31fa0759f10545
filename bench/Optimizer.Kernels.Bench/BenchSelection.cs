using System.Globalization;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Running;

namespace Optimizer.Kernels.Bench;

/// <summary>
/// The part of the table a run times: <c>--shape 4096x4096</c> and <c>--batch 8</c> (each repeatable) pick cases,
/// <c>--only fp4,MXFP4</c> picks kernels whose description contains one of the words (case-insensitive). Torch fp32 and
/// the bandwidth read always run, so every narrowed table still has its baselines. For tuning one kernel; the README table
/// comes from a run without them.
/// </summary>
internal static class BenchSelection
{
    private static readonly string[] AllShapes = ["4096x4096", "11008x4096"];
    private static readonly int[] AllBatches = [1, 8];

    public static IReadOnlyList<string> Shapes { get; private set; } = AllShapes;

    public static IReadOnlyList<int> Batches { get; private set; } = AllBatches;

    private static string[] Only { get; set; } = [];

    /// <summary>Reads the selection options from <paramref name="args"/>.</summary>
    /// <exception cref="ArgumentException">An option has no value, or a shape or batch is not one the table knows.</exception>
    public static void Parse(string[] args)
    {
        var shapes = new List<string>();
        var batches = new List<int>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is not ("--shape" or "--batch" or "--only"))
            {
                continue;
            }
            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{args[i]} needs a value.");
            }
            var value = args[++i];
            switch (args[i - 1])
            {
                case "--shape" when AllShapes.Contains(value): shapes.Add(value); break;
                case "--shape": throw new ArgumentException($"unknown shape '{value}'; the table has {string.Join(", ", AllShapes)}.");
                case "--batch" when int.TryParse(value, CultureInfo.InvariantCulture, out var batch) && batch is >= 1 and <= 16:
                    batches.Add(batch);
                    break;
                case "--batch": throw new ArgumentException($"batch '{value}' is not 1..16.");
                default: Only = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
            }
        }
        Shapes = shapes.Count > 0 ? shapes : AllShapes;
        Batches = batches.Count > 0 ? batches : AllBatches;
    }

    /// <summary>Keeps the kernels <c>--only</c> named, torch fp32 and the bandwidth read.</summary>
    public static IFilter KernelFilter => new SimpleFilter(Selected);

    private static bool Selected(BenchmarkCase benchmark)
    {
        if (benchmark.Descriptor.Type != typeof(MatMulBenchmarks))
        {
            return true;
        }
        return IsSelected(benchmark.Descriptor.WorkloadMethodDisplayInfo);
    }

    /// <summary>Whether <c>--only</c> keeps the kernel of this description (torch fp32 always).</summary>
    public static bool IsSelected(string kernel) =>
        Only.Length == 0 || kernel.Contains("torch", StringComparison.OrdinalIgnoreCase)
            || Only.Any(word => kernel.Contains(word, StringComparison.OrdinalIgnoreCase));
}
