using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Bench.Prune;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.FineTune;
using Optimizer.Domain.Methods.FineTune.Bone;
using Optimizer.Domain.Methods.FineTune.Lora;
using Optimizer.Domain.Methods.FineTune.Pissa;
using Optimizer.Domain.Models;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.FineTune.Bone;
using Optimizer.Worker.Methods.FineTune.Lora;
using Optimizer.Worker.Methods.FineTune.Pissa;
using Optimizer.Worker.Methods.FineTune.Shared;
using Optimizer.Worker.Modeling.Corpora;

namespace Optimizer.Bench.FineTune;

/// <summary>
/// <c>bench/run finetune</c>: fine-tunes the trained fixture (Moby-Dick) on State of the Union addresses with LoRA, PiSSA
/// and Bone (balance, bat) at equal trainable-parameter budgets (all seven projections; LoRA/PiSSA r = 8, Bone r = 16:
/// r·(in+out) vs r·out per linear, within 5 %) and equal steps, in process (no service) → held-out perplexity on SOTU and on
/// Moby-Dick, trainable parameters, tokens/s, peak memory. Then the merge table (<see cref="MergeBenchmark"/>).
/// </summary>
internal static class FineTuneBenchmark
{
    public const int Steps = 30;
    public const int BatchSize = 4;
    public const int SeqLen = 64;
    public const double LearningRate = 2e-3;
    private const int EvalSeqLen = 256;
    private const int EvalTokens = 4096;
    private static readonly string[] AllProjections = [.. FineTuneOptions.KnownTargetModules];

    public static async Task RunAsync(PruneBenchSettings settings, string corpusDir, CancellationToken cancellationToken)
    {
        var sourceDir = Path.Combine(settings.FixtureDir, "model");
        var mobyHeldOut = await File.ReadAllTextAsync(Path.Combine(settings.FixtureDir, "heldout.txt"), cancellationToken);
        var sotu = SotuCorpus.Load(corpusDir);
        using var work = new WorkDirectory();
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"# Fine-tuning benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, fixture {Path.GetFileName(settings.FixtureDir)}");
        Console.WriteLine($"SOTU {SotuCorpus.FirstYear}+: {sotu.TrainAddresses} training addresses, {sotu.HeldOutAddresses} held out (every {SotuCorpus.HeldOutEvery}th). " +
            $"{Steps} steps × {BatchSize} × {SeqLen} tokens, lr {LearningRate} (4 warm-up, cosine to 10 %), AdamW, all seven projections. " +
            $"Perplexity: {EvalSeqLen}-token windows, first {EvalTokens} held-out tokens of each corpus.");
        Console.WriteLine();
        Console.WriteLine("| method | trainable params | SOTU held-out ppl | Moby-Dick held-out ppl | tokens/s | train time | peak memory |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine($"| fixture (no fine-tune) | 0 | {await PerplexityAsync(sourceDir, sotu.HeldOutText, cancellationToken):0.00} | " +
            $"{await PerplexityAsync(sourceDir, mobyHeldOut, cancellationToken):0.00} | - | - | - |");
        var sotuText = new FixedText(sotu.TrainText);
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var method in new[] { "lora", "pissa", "bone-balance", "bone-bat" })
        {
            var outputDir = work.NewFolder();
            var context = Context(sourceDir, work.NewFolder(), outputDir, method);
            using var memory = new PeakMemory();
            var watch = Stopwatch.StartNew();
            var result = await RunAsync(method, context, sotuText, work.NewFolder(), cancellationToken);
            watch.Stop();
            var peak = memory.Stop();
            outputs[method] = outputDir;
            Console.WriteLine($"| {method} | {result.Metrics["trainable_parameters"]:N0} | {await PerplexityAsync(outputDir, sotu.HeldOutText, cancellationToken):0.00} | " +
                $"{await PerplexityAsync(outputDir, mobyHeldOut, cancellationToken):0.00} | {(double)result.Metrics["tokens_per_second"]!:0} | " +
                $"{watch.Elapsed.TotalSeconds:0} s | {peak / (1024.0 * 1024):0} MB |");
        }
        Console.WriteLine();
        Console.WriteLine("peak memory = the process's peak resident set while training (model, activations, adapters, optimizer state), sampled every 10 ms.");
        Console.WriteLine();
        await MergeBenchmark.RunAsync(sourceDir, outputs["lora"], new FixedText(MobyDickCorpus.Load(corpusDir).TrainText),
            sotu.HeldOutText, mobyHeldOut, work, cancellationToken);
        Console.WriteLine($"benchmark time: {clock.Elapsed.TotalMinutes:0.0} min");
    }

    /// <summary>One fine-tune with the benchmark's shared settings; the output is the merged model.</summary>
    public static Task<PipelineResult> RunAsync(string method, PipelineContext context, IDatasetText data, string checkpointDir,
        CancellationToken cancellationToken)
    {
        var checkpoints = new LocalCheckpointModels(checkpointDir);
        return method switch
        {
            "lora" => new LoraPipeline(data, checkpoints).RunAsync(context, Common(new LoraOptions { Rank = 8, Alpha = 16 }), cancellationToken),
            "pissa" => new PissaPipeline(data, checkpoints).RunAsync(context, Common(new PissaOptions { Rank = 8, Alpha = 16 }), cancellationToken),
            "bone-balance" => new BonePipeline(data, checkpoints).RunAsync(context, Common(new BoneOptions { Rank = 16, Mode = BoneOptions.Balance }), cancellationToken),
            "bone-bat" => new BonePipeline(data, checkpoints).RunAsync(context, Common(new BoneOptions { Rank = 16, Mode = BoneOptions.Bat }), cancellationToken),
            _ => throw new ArgumentException($"unknown method {method}", nameof(method)),
        };
    }

    public static async Task<double> PerplexityAsync(string modelDir, string text, CancellationToken cancellationToken)
    {
        var evaluation = await new LlamaLanguageModelComparer().CompareAsync(
            new LanguageModelComparisonRequest(modelDir, null, text, EvalSeqLen, EvalTokens), cancellationToken);
        return evaluation.CandidatePerplexity;
    }

    public static PipelineContext Context(string sourceDir, string workDir, string outputDir, string method) =>
        new(new Job("t_bench", "finetune", method, "{}"), [new SourceModel(new Model("t_bench", "fixture"), sourceDir)],
            workDir, outputDir, new SilentProgress(), new NoModels(), NullLogger.Instance);

    private static T Common<T>(T options) where T : FineTuneOptions => options with
    {
        TargetModules = AllProjections,
        Steps = Steps,
        BatchSize = BatchSize,
        SeqLen = SeqLen,
        LearningRate = LearningRate,
        WarmupSteps = 4,
        CheckpointEvery = 0,
        Output = FineTuneOptions.MergedOutput,
    };

    internal sealed class FixedText(string text) : IDatasetText
    {
        public Task<string> LoadAsync(string tenantId, string datasetId, CancellationToken cancellationToken) => Task.FromResult(text);
    }

    internal sealed class SilentProgress : IProgressReporter
    {
        public Task ReportAsync(string stage, double fraction, string? message, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task EventAsync(string level, string stage, string message, object? data, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>The benchmarks pass every model they use as a source; nothing is fetched.</summary>
    internal sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"the benchmark passes every model as a source; {modelId} was not");
    }
}
