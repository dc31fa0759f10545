using Optimizer.Domain.Methods.Prune;
using Optimizer.Domain.Methods.Prune.Magnitude;
using Optimizer.Domain.Methods.Prune.SparseGpt;
using Optimizer.Domain.Methods.Prune.Wanda;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Prune.Compact;
using Optimizer.Worker.Methods.Prune.Magnitude;
using Optimizer.Worker.Methods.Prune.SparseGpt;
using Optimizer.Worker.Methods.Prune.Wanda;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Corpora;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Methods.Prune;

/// <summary>Magnitude, Wanda and SparseGPT on the trained fixture model, measured like the report measures them.</summary>
public sealed class PruneFixtureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RunAsync_HitsTargetSparsity_AndKeepsPerplexityWithinRubric_OnFixtureModel()
    {
        var ct = TestContext.Current.CancellationToken;
        var sourceDir = FixtureMeasurement.SourceDir;
        var calibration = new FixedText(MobyDickCorpus.Load(TestEnvironment.CorpusDir).TrainText);
        using var measurement = new FixtureMeasurement();

        var dense = 0.0;
        async Task<(double Perplexity, double Sparsity)> Run(string method, PruneOptions options)
        {
            var (result, comparison, outputDir) = await measurement.RunAsync("prune", method, (context, token) => options switch
            {
                WandaOptions wanda => new WandaPipeline(calibration).RunAsync(context, wanda, token),
                SparseGptOptions sparseGpt => new SparseGptPipeline(calibration).RunAsync(context, sparseGpt, token),
                _ => new MagnitudePipeline().RunAsync(context, (MagnitudeOptions)options, token),
            }, ct);
            dense = comparison.BaselinePerplexity!.Value;
            output.WriteLine($"{method} {options.Pattern} {options.TargetSparsity:P0}: ppl {comparison.CandidatePerplexity:0.##} " +
                $"(dense {comparison.BaselinePerplexity:0.##}), sparsity {result.Output!.Sparsity:P3}, top-1 {comparison.Top1Agreement:0.###}");
            Assert.True(File.Exists(Path.Combine(outputDir, "vocab.json")), "tokenizer files travel with the model");
            using var folder = ModelFolder.Open(outputDir);
            using var source = ModelFolder.Open(sourceDir);
            // N:M outputs also hold the compact layout (layout "both"): the dense names are all there besides it.
            Assert.Equal(source.TensorNames, folder.TensorNames.Where(n => !n.Contains("_nm_", StringComparison.Ordinal)));
            Assert.Equal(options.Pattern != "unstructured", folder.TensorNames.Any(n => n.EndsWith(NmCompactCodec.IndicesSuffix, StringComparison.Ordinal)));
            return (comparison.CandidatePerplexity, result.Output.Sparsity!.Value);
        }

        var magnitude = await Run("magnitude", new MagnitudeOptions());
        var wanda = await Run("wanda", new WandaOptions { CalibrationSamples = 64, SeqLen = 256 });
        var magnitudeNm = await Run("magnitude", new MagnitudeOptions { Pattern = "2:4" });
        var wandaNm = await Run("wanda", new WandaOptions { Pattern = "2:4", CalibrationSamples = 64, SeqLen = 256 });
        var sparseGpt = await Run("sparsegpt", new SparseGptOptions { CalibrationSamples = 64, SeqLen = 256 });
        var sparseGptNm = await Run("sparsegpt", new SparseGptOptions { Pattern = "2:4", CalibrationSamples = 64, SeqLen = 256 });

        foreach (var (_, sparsity) in new[] { magnitude, wanda, magnitudeNm, wandaNm, sparseGpt, sparseGptNm })
        {
            // ALGORITHMS.md Part B: achieved sparsity within 0.5 % of the target.
            Assert.InRange(sparsity, 0.495, 0.505);
        }
        // The report's prune threshold (≤ 15 % perplexity increase at 50 %). On this small, briefly trained fixture
        // Wanda does NOT beat magnitude (measured 380.6 vs 371.9, dense 370.5): the decoder linears carry little of its
        // quality, so the comparison is noise-level and is reported rather than asserted.
        foreach (var (perplexity, _) in new[] { magnitude, wanda, magnitudeNm, wandaNm, sparseGpt, sparseGptNm })
        {
            Assert.True(perplexity <= dense * 1.15, $"perplexity {perplexity} > 1.15 x dense {dense}");
        }
    }

    private sealed class FixedText(string text) : IDatasetText
    {
        public Task<string> LoadAsync(string tenantId, string datasetId, CancellationToken cancellationToken) => Task.FromResult(text);
    }
}
