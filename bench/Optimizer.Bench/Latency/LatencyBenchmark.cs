using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Bench.FineTune;
using Optimizer.Bench.Quantize;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Evaluation.Latency;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Inference;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;

namespace Optimizer.Bench.Latency;

/// <summary>
/// <c>bench/run latency</c>: decode latency (ms per token, batch 1, one single-token forward — what the report's
/// <c>latency_ms_per_token</c> measures) of a model quantized by each method with a kernel: the fp32 source, the checkpoint
/// dequantized on load (dense TorchSharp), and the checkpoint on the low-bit kernels (<see cref="KernelModel"/>). Two models:
/// the test fixture (its tied 50k-vocabulary lm_head is most of a decode step) and a decoder-heavy random Llama.
/// </summary>
internal static class LatencyBenchmark
{
    public static async Task<int> RunAsync(string fixtureDir, string corpusDir)
    {
        var work = Path.Combine(Path.GetTempPath(), "optimizer-bench-latency-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        try
        {
            Console.WriteLine($"## Decode latency through the low-bit kernels — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, " +
                $"load average {LoadAverage()}");
            Console.WriteLine($"ms per token = fastest of {DecodeLatency.Repetitions} single-token batch-1 forwards after {DecodeLatency.WarmUp} warm-up, " +
                "models alternating step by step.");
            var calibration = new QuantizeBenchmark.CalibrationText(Optimizer.Worker.Modeling.Corpora.MobyDickCorpus.Load(corpusDir).TrainText);
            await RunModelAsync("fixture", Path.Combine(fixtureDir, "model"), work, QuantizeRowsWithKernels(calibrated: true), calibration);
            var synthetic = Path.Combine(work, "synthetic");
            SyntheticLlama.Write(synthetic);
            await RunModelAsync(SyntheticLlama.Description, synthetic, work, QuantizeRowsWithKernels(calibrated: false), calibration);
            Console.WriteLine($"load average after: {LoadAverage()}");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task RunModelAsync(string label, string sourceDir, string work, IReadOnlyList<QuantizeRow> rows, IDatasetText calibration)
    {
        Console.WriteLine();
        Console.WriteLine($"### {label}");
        Console.WriteLine();
        Console.WriteLine("| method | kernels | fp32 ms/token | dequantized dense ms/token | kernel path ms/token | speedup vs fp32 |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        using var sourceFolder = ModelFolder.Open(sourceDir);
        using var baseline = LlamaForCausalLM.FromFolder(sourceFolder);
        for (var index = 0; index < rows.Count; index++)
        {
            var row = rows[index];
            var outputDir = Path.Combine(work, $"{label.Split(' ')[0]}-{index}");
            Directory.CreateDirectory(outputDir);
            var context = new PipelineContext(new Job("t_bench", "quantize", row.Method, "{}"),
                [new SourceModel(new Model("t_bench", "bench"), sourceDir)], work, outputDir, new FineTuneBenchmark.SilentProgress(), new FineTuneBenchmark.NoModels(), NullLogger.Instance);
            await row.Run(context, calibration, CancellationToken.None);
            using (var folder = ModelFolder.Open(outputDir, LlamaLanguageModelComparer.PackedReaders))
            using (var dequantized = LlamaForCausalLM.FromFolder(folder))
            using (var kernel = KernelModel.Load(folder))
            {
                var (fp32Ms, kernelMs) = DecodeLatency.MeasureSteps(baseline, kernel, CancellationToken.None);
                var (_, denseMs) = DecodeLatency.MeasureSteps(baseline, dequantized, CancellationToken.None);
                var kernels = string.Join(", ", KernelModel.Linears(kernel).Select(l => l.Weight.Format).Distinct().Order());
                Console.WriteLine($"| {Label(row)} | {kernels} | {fp32Ms:F3} | {denseMs:F3} | {kernelMs:F3} | {fp32Ms / kernelMs:F2}x |");
            }
            Directory.Delete(outputDir, recursive: true);
        }
    }

    /// <summary>The rows of <c>bench/run quantize</c> whose output a kernel runs (4- and 8-bit integer, FP8, FP4, PTQTP).</summary>
    private static IReadOnlyList<QuantizeRow> QuantizeRowsWithKernels(bool calibrated) =>
    [
        .. QuantizeRows.All.Where(r => r.Method switch
        {
            "rtn" => r.Bits is 4 or 8,
            "gptq" or "awq" => calibrated && r.Bits == 4,
            "fp8-e4m3" or "fp4-e2m1-g32" or "ptqtp-g128" => true,
            "fp4-e2m1-g32+lorc8" => calibrated,
            _ => false,
        }),
    ];

    /// <summary>The integer methods' rows carry their width (<c>rtn w4g128</c>); the others name their grid already.</summary>
    private static string Label(QuantizeRow row) => row.Method is "rtn" or "gptq" or "awq" ? $"{row.Method} w{row.Bits}g128" : row.Method;

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
