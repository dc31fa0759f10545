using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Optimizer.Kernels.Bench;

// bench/run kernels [--quick]: the low-bit kernel table (issue 8). In process, so TorchSharp, llama.cpp and our kernels
// run in the same process on the same data; --quick takes fewer iterations (a smoke run, not for the README);
// --accuracy prints only the accuracy check; --paired only the interleaved goal check (PairedGoals); --shape, --batch and --only narrow the run (BenchSelection).
BenchSelection.Parse(args);
var quick = args.Contains("--quick");
Console.WriteLine($"# Kernel benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, "
    + $"widest kernel path {Optimizer.Kernels.LowBit.KernelWidths.Best}");
AccuracyCheck.Print();
if (args.Contains("--accuracy"))
{
    return 0;
}
if (args.Contains("--paired"))
{
    PairedGoals.Print(BenchSelection.Shapes, BenchSelection.Batches, BenchSelection.IsSelected);
    return 0;
}

var job = Job.Default
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithLaunchCount(1)
    .WithWarmupCount(quick ? 1 : 3)
    .WithIterationCount(quick ? 3 : 10);
var config = ManualConfig.CreateMinimumViable().AddJob(job).WithOptions(ConfigOptions.DisableLogFile)
    .AddFilter(BenchSelection.KernelFilter);
var summaries = BenchmarkRunner.Run([typeof(MemoryBandwidth), typeof(MatMulBenchmarks)], config);
KernelTable.Print(summaries);
PairedGoals.Print(BenchSelection.Shapes, BenchSelection.Batches, BenchSelection.IsSelected);
return 0;
