using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Prune;
using Optimizer.Domain.Methods.Prune.Magnitude;
using Optimizer.Domain.Methods.Prune.SparseGpt;
using Optimizer.Domain.Methods.Prune.Wanda;
using Optimizer.Domain.Models;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Prune.Magnitude;
using Optimizer.Worker.Methods.Prune.SparseGpt;
using Optimizer.Worker.Methods.Prune.Wanda;

namespace Optimizer.Bench.Prune;

/// <summary>
/// <c>bench/run prune</c>: every prune method × sparsity (50 %, 60 %, 70 %, 2:4) × allocation on the trained fixture,
/// run in-process (no service) → held-out perplexity (256-token windows, the first 4,096 tokens), achieved sparsity,
/// prune time and peak memory; the dense row first, then a summary of who beats whom.
/// </summary>
internal static class PruneBenchmark
{
    private const int SeqLen = 256;
    private const int HeldOutTokens = 4096;
    private static readonly string[] Patterns = ["0.5", "0.6", "0.7", "2:4"];

    public static async Task RunAsync(PruneBenchSettings settings, CancellationToken cancellationToken)
    {
        var sourceDir = Path.Combine(settings.FixtureDir, "model");
        var heldOut = await File.ReadAllTextAsync(Path.Combine(settings.FixtureDir, "heldout.txt"), cancellationToken);
        var calibration = new FixedText(settings.CalibrationText);
        using var work = new WorkDirectory();

        Console.WriteLine($"# Prune benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, fixture {Path.GetFileName(settings.FixtureDir)}");
        Console.WriteLine($"held-out perplexity: {SeqLen}-token windows, first {HeldOutTokens} tokens; calibration {settings.CalibrationSamples} × {SeqLen} tokens (Moby-Dick train chapters)");
        Console.WriteLine();
        Console.WriteLine("| method | sparsity | allocation | held-out ppl | achieved sparsity | prune time | peak memory |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|");

        var dense = await PerplexityAsync(sourceDir, heldOut, cancellationToken);
        Console.WriteLine($"| dense | 0 | - | {dense:0.00} | 0.000 | - | - |");
        var results = new List<(string Method, string Pattern, string Allocation, double Perplexity)>();
        foreach (var method in new[] { "magnitude", "wanda", "sparsegpt" })
        {
            foreach (var pattern in Patterns)
            {
                foreach (var allocation in new[] { PruneOptions.UniformAllocation, PruneOptions.FarmsAllocation })
                {
                    if (pattern.Contains(':') && allocation == PruneOptions.FarmsAllocation)
                    {
                        // N:M fixes every layer at 1 - N/M: nothing to allocate.
                        continue;
                    }
                    var options = Options(method, pattern, allocation, settings.CalibrationSamples);
                    var outputDir = work.NewFolder();
                    var context = Context(sourceDir, work.Path, outputDir);
                    using var memory = new PeakMemory();
                    var watch = Stopwatch.StartNew();
                    var result = await Pipeline(method, options, calibration)(context, cancellationToken);
                    watch.Stop();
                    var peak = memory.Stop();
                    var perplexity = await PerplexityAsync(outputDir, heldOut, cancellationToken);
                    results.Add((method, pattern, allocation, perplexity));
                    Console.WriteLine($"| {method} | {Label(pattern)} | {allocation} | {perplexity:0.00} | {result.Output!.Sparsity:0.000} | " +
                        $"{watch.Elapsed.TotalSeconds:0.0} s | {peak / (1024.0 * 1024):0} MB |");
                    Directory.Delete(outputDir, recursive: true);
                }
            }
        }
        Console.WriteLine();
        Console.WriteLine("peak memory = the process's peak resident set while pruning (model, calibration activations, writer), sampled every 10 ms.");
        Console.WriteLine(Summary(results));
    }

    private static string Summary(List<(string Method, string Pattern, string Allocation, double Perplexity)> results)
    {
        double Ppl(string method, string pattern, string allocation) =>
            results.Single(r => r.Method == method && r.Pattern == pattern && r.Allocation == allocation).Perplexity;
        string Beats(string method)
        {
            var wins = Patterns.Count(p => Ppl(method, p, "uniform") < Ppl("magnitude", p, "uniform"));
            return $"{method} beats magnitude at {wins} of {Patterns.Length} sparsities ({(wins == Patterns.Length ? "yes" : wins == 0 ? "no" : "partly")})";
        }
        var farms = new[] { "magnitude", "wanda", "sparsegpt" }
            .Select(m => $"{m} {(Ppl(m, "0.7", "farms") < Ppl(m, "0.7", "uniform") ? "yes" : "no")} ({Ppl(m, "0.7", "farms"):0.0} vs {Ppl(m, "0.7", "uniform"):0.0})");
        return $"summary: {Beats("wanda")}; {Beats("sparsegpt")}; FARMS beats uniform at 70 %: {string.Join(", ", farms)}.";
    }

    private static string Label(string pattern) => pattern.Contains(':') ? pattern : $"{double.Parse(pattern, System.Globalization.CultureInfo.InvariantCulture):P0}";

    private static PruneOptions Options(string method, string pattern, string allocation, int samples)
    {
        var nm = pattern.Contains(':');
        var sparsity = nm ? 0.5 : double.Parse(pattern, System.Globalization.CultureInfo.InvariantCulture);
        var shape = nm ? pattern : PruneOptions.Unstructured;
        return method switch
        {
            "magnitude" => new MagnitudeOptions { Sparsity = sparsity, Pattern = shape, Allocation = allocation },
            "wanda" => new WandaOptions { Sparsity = sparsity, Pattern = shape, Allocation = allocation, CalibrationSamples = samples, SeqLen = SeqLen },
            _ => new SparseGptOptions { Sparsity = sparsity, Pattern = shape, Allocation = allocation, CalibrationSamples = samples, SeqLen = SeqLen },
        };
    }

    private static Func<PipelineContext, CancellationToken, Task<PipelineResult>> Pipeline(string method, PruneOptions options, IDatasetText calibration) =>
        options switch
        {
            MagnitudeOptions magnitude => (context, ct) => new MagnitudePipeline().RunAsync(context, magnitude, ct),
            WandaOptions wanda => (context, ct) => new WandaPipeline(calibration).RunAsync(context, wanda, ct),
            SparseGptOptions sparseGpt => (context, ct) => new SparseGptPipeline(calibration).RunAsync(context, sparseGpt, ct),
            _ => throw new ArgumentException($"no pipeline for {method}"),
        };

    private static async Task<double> PerplexityAsync(string modelDir, string heldOut, CancellationToken cancellationToken)
    {
        var evaluation = await new LlamaLanguageModelComparer().CompareAsync(
            new LanguageModelComparisonRequest(modelDir, null, heldOut, SeqLen, HeldOutTokens), cancellationToken);
        return evaluation.CandidatePerplexity;
    }

    private static PipelineContext Context(string sourceDir, string workDir, string outputDir) =>
        new(new Job("t_bench", "prune", "bench", "{}"), [new SourceModel(new Model("t_bench", "fixture"), sourceDir)],
            workDir, outputDir, new SilentProgress(), new NoModels(), NullLogger.Instance);

    private sealed class FixedText(string text) : IDatasetText
    {
        public Task<string> LoadAsync(string tenantId, string datasetId, CancellationToken cancellationToken) => Task.FromResult(text);
    }

    private sealed class SilentProgress : IProgressReporter
    {
        public Task ReportAsync(string stage, double fraction, string? message, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task EventAsync(string level, string stage, string message, object? data, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the prune benchmark has one source model");
    }
}
