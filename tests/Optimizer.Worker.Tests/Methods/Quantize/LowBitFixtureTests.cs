using System.Diagnostics;
using Optimizer.Domain.Methods.Quantize.BitStack;
using Optimizer.Domain.Methods.Quantize.Fp4;
using Optimizer.Domain.Methods.Quantize.Ptqtp;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.BitStack;
using Optimizer.Worker.Methods.Quantize.Fp4;
using Optimizer.Worker.Methods.Quantize.Ptqtp;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Methods.Quantize;

/// <summary>
/// FP4, PTQTP and BitStack on the trained fixture model, measured like the report (held-out text, 256-token windows,
/// 4,096 tokens, against the fp32 fixture). The bounds are sanity bounds for a 7 M-parameter model, not quality goals.
/// </summary>
public sealed class LowBitFixtureTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("row_pow2", 8, 0.30)]
    public async Task Fp4_KeepsPerplexityNearFp32_OnFixtureModel(string constraint, int lorcRank, double maxIncrease)
    {
        var options = new Fp4Options { ScaleConstraint = constraint, LorcRank = lorcRank };
        var (result, comparison) = await MeasureAsync("fp4", (c, t) => new Fp4Pipeline(new FixedDatasetText("")).RunAsync(c, options, t),
            $"fp4 g32 {constraint} lorc {lorcRank}");
        Assert.InRange(comparison.CandidatePerplexity / comparison.BaselinePerplexity!.Value - 1, -0.05, maxIncrease);
        // g32: 4 bits + 16/32 (float16 scales) or 8/32 (E8M0) + M2's row scales; LoRC adds 16·r·(out+in)/(out·in).
        Assert.InRange((double)result.Metrics["bits_per_weight"]!, 4.25, lorcRank > 0 ? 8.0 : 4.5);
    }

    [Fact]
    public async Task Fp4GptqRounding_IsNoFurtherFromFp32ThanRtn_OnFixtureModel()
    {
        var rtnOptions = new Fp4Options { ScaleConstraint = "row_pow2" };
        var gptqOptions = rtnOptions with { Rounding = Fp4Options.GptqRounding, CalibrationSamples = 16, SeqLen = 256 };
        var (rtnResult, rtn) = await MeasureAsync("fp4", (c, t) => new Fp4Pipeline(new FixedDatasetText("")).RunAsync(c, rtnOptions, t),
            "fp4 g32 row_pow2 rtn");
        var (result, gptq) = await MeasureAsync("fp4", (c, t) => new Fp4Pipeline(FixedDatasetText.MobyDickCalibration()).RunAsync(c, gptqOptions, t),
            "fp4 g32 row_pow2 gptq");

        Assert.Equal(rtnResult.Metrics["quantized_layers"], result.Metrics["quantized_layers"]);
        Assert.InRange(gptq.CandidatePerplexity / gptq.BaselinePerplexity!.Value - 1, -0.05, 0.30);
        // Same layout, same size; GPTQ's error feedback (calibrated on other chapters) must not move the model further from fp32.
        Assert.Equal(rtnResult.Metrics["bits_per_weight"], result.Metrics["bits_per_weight"]);
        Assert.True(gptq.MeanKl <= rtn.MeanKl * 1.05, $"KL(fp32 ‖ fp4) gptq {gptq.MeanKl} vs rtn {rtn.MeanKl}");
    }

    [Fact]
    public async Task Ptqtp_StaysTheSameModel_OnFixtureModel()
    {
        var (result, comparison) = await MeasureAsync("ptqtp", (c, t) => new PtqtpPipeline().RunAsync(c, new PtqtpOptions(), t), "ptqtp g128");
        // Two trit planes (about 3.4 bits) cost more than FP4 on a 7 M-parameter model, but the model must stay usable.
        Assert.InRange(comparison.CandidatePerplexity / comparison.BaselinePerplexity!.Value - 1, -0.05, 1.0);
        Assert.InRange((double)result.Metrics["bits_per_weight"]!, 3.2, 3.6);
    }

    [Fact]
    public async Task BitStack_ImprovesWithTheBudget_OnFixtureModel()
    {
        var ct = TestContext.Current.CancellationToken;
        using var measurement = new FixtureMeasurement();
        var options = new BitStackOptions { Blocks = 8, Rank = 4 };
        var clock = Stopwatch.StartNew();
        var (result, full, outputDir) = await measurement.RunAsync("quantize", "bitstack", (c, t) => new BitStackPipeline().RunAsync(c, options, t), ct);
        var seconds = clock.Elapsed.TotalSeconds;
        var minimumMb = (double)result.Metrics["minimum_mb"]!;
        var fullMb = (double)result.Metrics["full_mb"]!;
        var heldOut = await File.ReadAllTextAsync(Path.Combine(TestEnvironment.FixtureDir, "heldout.txt"), ct);
        var half = await new LlamaLanguageModelComparer().CompareAsync(new LanguageModelComparisonRequest(
            outputDir, FixtureMeasurement.SourceDir, heldOut, 256, 4096, (minimumMb + fullMb) / 2), ct);
        output.WriteLine($"bitstack n8 k4: full {fullMb:0.###} MB ppl {full.CandidatePerplexity:0.###}; " +
            $"budget {(minimumMb + fullMb) / 2:0.###} MB ppl {half.CandidatePerplexity:0.###}; fp32 {full.BaselinePerplexity:0.###}; " +
            $"bits/weight (all blocks) {result.Metrics["bits_per_weight"]}; {seconds:0.#} s with measurement");

        Assert.True(full.CandidatePerplexity <= half.CandidatePerplexity * 1.001,
            $"all blocks {full.CandidatePerplexity} vs half budget {half.CandidatePerplexity}");
        Assert.InRange(full.CandidatePerplexity / full.BaselinePerplexity!.Value - 1, -0.05, 1.0);
    }

    private async Task<(PipelineResult Result, LanguageModelEvaluation Comparison)> MeasureAsync(
        string method, Func<PipelineContext, CancellationToken, Task<PipelineResult>> pipeline, string label)
    {
        var ct = TestContext.Current.CancellationToken;
        using var measurement = new FixtureMeasurement();
        var seconds = 0.0;
        var (result, comparison, outputDir) = await measurement.RunAsync("quantize", method, async (c, t) =>
        {
            var clock = Stopwatch.StartNew();
            var r = await pipeline(c, t);
            seconds = clock.Elapsed.TotalSeconds;
            return r;
        }, ct);
        var size = Directory.GetFiles(outputDir, "*.safetensors").Sum(f => new FileInfo(f).Length);
        output.WriteLine($"{label}: ppl {comparison.CandidatePerplexity:0.###} vs fp32 {comparison.BaselinePerplexity:0.###} " +
            $"({comparison.CandidatePerplexity / comparison.BaselinePerplexity - 1:P2}), KL {comparison.MeanKl:0.#####}, " +
            $"top-1 {comparison.Top1Agreement:0.####}, bits/weight {result.Metrics["bits_per_weight"]}, " +
            $"size {size / 1048576.0:0.##} MiB, quantize {seconds:0.##} s");
        return (result, comparison);
    }
}
