using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Bench.Prune;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Merge.Dare;
using Optimizer.Domain.Methods.Merge.Linear;
using Optimizer.Domain.Methods.Merge.Slerp;
using Optimizer.Domain.Methods.Merge.TaskArithmetic;
using Optimizer.Domain.Methods.Merge.Ties;
using Optimizer.Domain.Models;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Merge.Dare;
using Optimizer.Worker.Methods.Merge.Linear;
using Optimizer.Worker.Methods.Merge.Slerp;
using Optimizer.Worker.Methods.Merge.TaskArithmetic;
using Optimizer.Worker.Methods.Merge.Ties;

namespace Optimizer.Bench.FineTune;

/// <summary>
/// The merge table of <c>bench/run finetune</c>: the SOTU LoRA fine-tune merged with a second LoRA fine-tune of the same
/// fixture on the Moby-Dick training chapters (the other real corpus shipped under <c>.optimizer/npm</c>), by each
/// merge method with equal weights (base = the fixture where the method takes one) → held-out perplexity on both corpora.
/// </summary>
internal static class MergeBenchmark
{
    public static async Task RunAsync(string fixtureDir, string sotuModelDir, FineTuneBenchmark.FixedText mobyTrain,
        string sotuHeldOut, string mobyHeldOut, WorkDirectory work, CancellationToken cancellationToken)
    {
        var mobyModelDir = work.NewFolder();
        await FineTuneBenchmark.RunAsync("lora", FineTuneBenchmark.Context(fixtureDir, work.NewFolder(), mobyModelDir, "lora"), mobyTrain,
            work.NewFolder(), cancellationToken);
        var fixture = new SourceModel(new Model("t_bench", "fixture", "mdl_fixture"), fixtureDir);
        var sotu = new SourceModel(new Model("t_bench", "sotu-lora", "mdl_sotu"), sotuModelDir);
        var moby = new SourceModel(new Model("t_bench", "moby-lora", "mdl_moby"), mobyModelDir);

        Console.WriteLine($"Merges of the SOTU LoRA fine-tune and a Moby-Dick LoRA fine-tune (same settings, Moby-Dick training chapters), weights 1:1, base = fixture for the task-vector methods.");
        Console.WriteLine();
        Console.WriteLine("| model | SOTU held-out ppl | Moby-Dick held-out ppl |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (label, dir) in new[] { ("fixture", fixtureDir), ("SOTU LoRA", sotuModelDir), ("Moby-Dick LoRA", mobyModelDir) })
        {
            Console.WriteLine($"| {label} | {await FineTuneBenchmark.PerplexityAsync(dir, sotuHeldOut, cancellationToken):0.00} | " +
                $"{await FineTuneBenchmark.PerplexityAsync(dir, mobyHeldOut, cancellationToken):0.00} |");
        }
        var merges = new (string Label, bool UsesBase, Func<PipelineContext, Task<PipelineResult>> Run)[]
        {
            ("linear", false, c => new LinearMergePipeline().RunAsync(c, new LinearMergeOptions(), cancellationToken)),
            ("slerp t=0.5", false, c => new SlerpPipeline().RunAsync(c, new SlerpOptions(), cancellationToken)),
            ("task_arithmetic λ=1", true, c => new TaskArithmeticPipeline().RunAsync(c, new TaskArithmeticOptions(), cancellationToken)),
            ("ties density 0.5", true, c => new TiesPipeline().RunAsync(c, new TiesOptions { Density = 0.5 }, cancellationToken)),
            ("dare_linear density 0.5", true, c => new DareLinearPipeline().RunAsync(c, new DareLinearOptions { Density = 0.5, Seed = 1 }, cancellationToken)),
            ("dare_ties density 0.5", true, c => new DareTiesPipeline().RunAsync(c, new DareTiesOptions { Density = 0.5, Seed = 1 }, cancellationToken)),
        };
        foreach (var (label, usesBase, run) in merges)
        {
            var outputDir = work.NewFolder();
            var job = new Job("t_bench", "merge", label, "{}")
            {
                ModelsJson = JsonSerializer.Serialize(new[] { new { model_id = sotu.Model.Id, weight = 1.0 }, new { model_id = moby.Model.Id, weight = 1.0 } }),
                BaseModelId = usesBase ? fixture.Model.Id : null,
            };
            var context = new PipelineContext(job, usesBase ? [sotu, moby, fixture] : [sotu, moby], work.NewFolder(), outputDir,
                new FineTuneBenchmark.SilentProgress(), new FineTuneBenchmark.NoModels(), NullLogger.Instance);
            await run(context);
            Console.WriteLine($"| merge: {label} | {await FineTuneBenchmark.PerplexityAsync(outputDir, sotuHeldOut, cancellationToken):0.00} | " +
                $"{await FineTuneBenchmark.PerplexityAsync(outputDir, mobyHeldOut, cancellationToken):0.00} |");
        }
        Console.WriteLine();
    }
}
