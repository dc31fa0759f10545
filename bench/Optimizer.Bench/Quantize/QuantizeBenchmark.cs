using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Corpora;

namespace Optimizer.Bench.Quantize;

/// <summary>
/// Quantization quality on the bench fixture model, in process (no service): one table of method × bits → held-out
/// perplexity, mean per-token KL(fp32 ‖ quantized), bits per weight of the quantized linears, artifact size, quantize time
/// and peak memory, fp32 first, then a summary of the orderings issue 4 expects.
/// </summary>
internal static class QuantizeBenchmark
{
    /// <summary>Held-out tokens evaluated per row (32 windows of 256), enough to order the rows, cheap on 2 cores.</summary>
    private const int EvaluatedTokens = 8192;

    /// <param name="fixtureDir">The bench fixture (model/ and heldout.txt).</param>
    /// <param name="corpusDir">The npm corpora (Moby-Dick calibration chapters).</param>
    /// <param name="only">Run only the rows whose method contains one of these (none: every row).</param>
    public static async Task<int> RunAsync(string fixtureDir, string corpusDir, IReadOnlyList<string> only)
    {
        var rows = QuantizeRows.All.Where(r => only.Count == 0 || only.Any(o => r.Method.Contains(o, StringComparison.Ordinal))).ToArray();
        var sourceDir = Path.Combine(fixtureDir, "model");
        var heldOut = await File.ReadAllTextAsync(Path.Combine(fixtureDir, "heldout.txt"));
        var calibration = new CalibrationText(MobyDickCorpus.Load(corpusDir).TrainText);
        var work = Path.Combine(Path.GetTempPath(), "optimizer-bench-quantize-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        var linears = DecoderLinears(sourceDir);
        try
        {
            var clock = Stopwatch.StartNew();
            Console.WriteLine($"## Quantization on the bench fixture model ({Path.GetFileName(fixtureDir)}: {TotalParameters(sourceDir):N0} parameters, " +
                $"{linears.Elements:N0} in decoder linears; first {EvaluatedTokens:N0} held-out Moby-Dick tokens, " +
                $"seq_len 256; group size 128; calibration: {QuantizeRows.CalibrationSamples} windows of the built-in chapters) — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
            Console.WriteLine("| method | bits | perplexity | Δ vs fp32 | mean KL vs fp32 | bits/weight | artifact MB | quantize s | peak mem Δ MB |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            var fp32 = (await EvaluateAsync(sourceDir, null, heldOut)).CandidatePerplexity;
            Console.WriteLine($"| fp32 | 32 | {fp32:F2} | — | 0 | 32.00 | {ArtifactBytes(sourceDir) / 1048576.0:F1} | — | — |");
            var results = new List<(QuantizeRow Row, double Perplexity)>();
            for (var index = 0; index < rows.Length; index++)
            {
                var row = rows[index];
                var outputDir = Path.Combine(work, $"row-{index}");
                Directory.CreateDirectory(outputDir);
                var context = new PipelineContext(new Job("t_bench", "quantize", row.Method, "{}"),
                    [new SourceModel(new Model("t_bench", "fixture"), sourceDir)], work, outputDir, new SilentProgress(),
                    new NoModels(), NullLogger.Instance);
                GC.Collect();
                using var memory = PeakMemory.Start();
                var rowClock = Stopwatch.StartNew();
                await row.Run(context, calibration, CancellationToken.None);
                rowClock.Stop();
                var peak = memory.PeakDeltaBytes;
                var evaluation = await EvaluateAsync(outputDir, sourceDir, heldOut);
                var perplexity = evaluation.CandidatePerplexity;
                results.Add((row, perplexity));
                Console.WriteLine($"| {row.Method} | {row.Bits} | {perplexity:F2} | {SignedPercent.Format(perplexity / fp32 - 1)} | {evaluation.MeanKl:F4} | " +
                    $"{BitsPerWeight(outputDir, linears):F2} | {ArtifactBytes(outputDir) / 1048576.0:F1} | {rowClock.Elapsed.TotalSeconds:F1} | {peak / 1048576.0:F0} |");
                Directory.Delete(outputDir, recursive: true);
            }
            Console.WriteLine();
            Console.WriteLine($"Whole table: {clock.Elapsed.TotalMinutes:F1} min.");
            return QuantizeSummary.Print(fp32, results.Select(r => (r.Row.Method, r.Row.Bits, r.Perplexity)).ToList()) ? 0 : 1;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Perplexity of <paramref name="modelDir"/>, and its mean token KL from <paramref name="baselineDir"/> when given.</summary>
    private static Task<LanguageModelEvaluation> EvaluateAsync(string modelDir, string? baselineDir, string text) =>
        new LlamaLanguageModelComparer().CompareAsync(
            new LanguageModelComparisonRequest(modelDir, baselineDir, text, 256, EvaluatedTokens), CancellationToken.None);

    private static long TotalParameters(string modelDir)
    {
        using var folder = ModelFolder.Open(modelDir);
        return folder.TensorNames.Sum(n => folder.GetEntry(n).ElementCount);
    }

    private static long ArtifactBytes(string dir) =>
        Directory.GetFiles(dir, "*.safetensors").Sum(f => new FileInfo(f).Length);

    /// <summary>The decoder linears of the source (what the quantizers replace): their tensor prefixes and weight count.</summary>
    private static (HashSet<string> Prefixes, long Elements) DecoderLinears(string sourceDir)
    {
        using var folder = ModelFolder.Open(sourceDir);
        var names = folder.TensorNames.Where(n => ModelFiles.IsDecoderLinear(n, folder.GetEntry(n))).ToList();
        return (names.Select(n => n[..^".weight".Length]).ToHashSet(StringComparer.Ordinal), names.Sum(n => folder.GetEntry(n).ElementCount));
    }

    /// <summary>Bits stored for the decoder linears (codes, scales, zeros, g_idx; or the dense weight) per original weight.</summary>
    private static double BitsPerWeight(string outputDir, (HashSet<string> Prefixes, long Elements) linears)
    {
        using var folder = ModelFolder.Open(outputDir);
        // Every tensor under a linear's prefix (BitStack nests its blocks: <prefix>.bitstack.<i>.u), as StoredBits counts.
        var bytes = folder.TensorNames
            .Where(n => !n.EndsWith(".bias", StringComparison.Ordinal) && Prefixes(n).Any(linears.Prefixes.Contains))
            .Sum(n => folder.GetEntry(n).ByteLength);
        return 8.0 * bytes / linears.Elements;
    }

    /// <summary>Every dotted prefix of <paramref name="name"/>, longest first (<c>a.b.c</c> → <c>a.b</c>, <c>a</c>).</summary>
    private static IEnumerable<string> Prefixes(string name)
    {
        for (var dot = name.LastIndexOf('.'); dot > 0; dot = name.LastIndexOf('.', dot - 1))
        {
            yield return name[..dot];
        }
    }

    internal sealed class CalibrationText(string text) : IDatasetText
    {
        public Task<string> LoadAsync(string tenantId, string datasetId, CancellationToken cancellationToken) => Task.FromResult(text);
    }

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not used");
    }

    private sealed class SilentProgress : IProgressReporter
    {
        public Task ReportAsync(string stage, double fraction, string? message, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task EventAsync(string level, string stage, string message, object? data, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
