using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Quantize.Rtn;
using Optimizer.Domain.Models;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Rtn;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Methods;

/// <summary>RTN on the trained fixture model, measured like the report measures it (ALGORITHMS.md 1.1 reference behaviour).</summary>
public sealed class RtnFixtureTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(8, 128, 0.01)]
    [InlineData(4, 128, 0.05)]
    [InlineData(3, 128, 0.15)]
    public async Task RunAsync_KeepsHeldOutPerplexityWithinTolerance_OnFixtureModel(int bits, int groupSize, double maxIncrease)
    {
        var ct = TestContext.Current.CancellationToken;
        var fixture = TestEnvironment.FixtureDir;
        using var work = new TempDirectory();
        var outputDir = Path.Combine(work.Path, "output");
        Directory.CreateDirectory(outputDir);
        var sourceDir = Path.Combine(fixture, "model");
        var context = new PipelineContext(new Job("t_test", "quantize", "rtn", "{}"),
            [new SourceModel(new Model("t_test", "fixture"), sourceDir)], work.Path, outputDir, new RecordingProgress(),
            new NoModels(), NullLogger.Instance);

        await new RtnPipeline().RunAsync(context, new RtnOptions { Bits = bits, GroupSize = groupSize }, ct);
        var result = await new LlamaLanguageModelComparer().CompareAsync(new LanguageModelComparisonRequest(
            outputDir, sourceDir, await File.ReadAllTextAsync(Path.Combine(fixture, "heldout.txt"), ct), 256, 4096), ct);

        var increase = result.CandidatePerplexity / result.BaselinePerplexity!.Value - 1;
        output.WriteLine($"w{bits}g{groupSize}: ppl {result.CandidatePerplexity:0.###} vs {result.BaselinePerplexity:0.###} " +
            $"(+{increase:P2}), KL {result.MeanKl:0.#####}, top-1 {result.Top1Agreement:0.####}");
        Assert.True(increase <= maxIncrease, $"perplexity increase {increase:P2} > {maxIncrease:P0}");
        Assert.True(result.MeanKl >= 0);
    }

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not used");
    }
}
