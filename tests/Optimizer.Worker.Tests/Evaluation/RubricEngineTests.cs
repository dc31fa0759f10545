using Optimizer.Domain.Methods.Evaluate.Standard;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Evaluation.Encoders;
using Optimizer.Worker.Evaluation.Latency;

namespace Optimizer.Worker.Tests.Evaluation;

public sealed class RubricEngineTests
{
    internal static EvaluationMetrics GoodMetrics => new()
    {
        AllTensorsFinite = true,
        LoadsAndRuns = true,
        CandidatePerplexity = 10.2,
        BaselinePerplexity = 10.0,
        MeanKl = 0.01,
        Top1Agreement = 0.95,
        SizeBytes = 300_000,
        BaselineSizeBytes = 1_000_000,
        QuantizedParameters = 400_000,
        QuantizedBytes = 220_000,
        OtherParameters = 50_000,
        OtherBytes = 100_000,
        MinQuantizedInFeatures = 256,
        MinQuantizedOutFeatures = 256,
        Latency = new LatencyMeasurement(0.5, 1.0, 14, ["int4 g128"], DecodeLatency.Repetitions),
    };

    private static RubricContext Quantize4Bit(EvaluationMetrics metrics, RubricOverrides? overrides = null) =>
        new("quantize", "rtn", 4, 128, IsCausalLm: true, HasBaseline: true, metrics, overrides);

    [Fact]
    public void Answer_ScoresOneAndPasses_WhenEveryItemIsYes()
    {
        var card = RubricEngine.Answer(Quantize4Bit(GoodMetrics), RubricBank.Standard);

        // Every question but the prune-only one, the task ones (no task dataset) and the encoder ones applies to a
        // quantized causal LM with a baseline.
        Assert.Equal(RubricBank.Standard.Count(q => q.Id != "integrity.sparsity_achieved" && q.Category != "task"
            && !EncoderRubric.Questions.Contains(q)), card.ItemsTotal);
        Assert.All(card.Items, item => Assert.True(item.Answer, item.Id));
        Assert.Equal(1.0, card.Score);
        Assert.Equal("pass", card.Verdict);
    }

    [Theory]
    [InlineData(0.5, true)]
    [InlineData(0.504, true)]
    [InlineData(0.49, false)]
    public void Answer_ChecksSparsityWithinHalfAPercent_ForPrunedCandidate(double achieved, bool expected)
    {
        var context = new RubricContext("prune", "wanda", null, null, IsCausalLm: true, HasBaseline: true,
            GoodMetrics with { Sparsity = achieved, TargetSparsity = 0.5 }, null);

        var item = RubricEngine.Answer(context, RubricBank.Standard).Items.Single(i => i.Id == "integrity.sparsity_achieved");

        Assert.Equal(expected, item.Answer);
        Assert.True(item.Critical);
    }

    [Fact]
    public void Answer_Fails_WhenACriticalItemIsNo()
    {
        var card = RubricEngine.Answer(Quantize4Bit(GoodMetrics with { CandidatePerplexity = 11.0 }), RubricBank.Standard);

        var perplexity = card.Items.Single(i => i.Id == "quality.perplexity_within_tolerance");
        Assert.False(perplexity.Answer);
        Assert.True(perplexity.Critical);
        Assert.Equal("fail", card.Verdict);
        Assert.True(card.Score < 1.0);
    }

    [Fact]
    public void Answer_StillPasses_WhenOnlyANonCriticalItemIsNo()
    {
        var card = RubricEngine.Answer(Quantize4Bit(GoodMetrics with { Top1Agreement = 0.5 }), RubricBank.Standard);

        Assert.False(card.Items.Single(i => i.Id == "quality.top1_agreement").Answer);
        Assert.Equal("pass", card.Verdict);
        Assert.True(card.Score < 1.0);
    }

    [Fact]
    public void Answer_KeepsOtherAnswers_WhenAnItemIsExcluded()
    {
        var metrics = GoodMetrics with { MeanKl = 0.2 };
        var full = RubricEngine.Answer(Quantize4Bit(metrics), RubricBank.Standard);
        var reduced = RubricEngine.Answer(
            Quantize4Bit(metrics, new RubricOverrides { Exclude = ["quality.top1_agreement"] }), RubricBank.Standard);

        Assert.DoesNotContain(reduced.Items, i => i.Id == "quality.top1_agreement");
        Assert.Equal(full.ItemsTotal - 1, reduced.ItemsTotal);
        foreach (var item in reduced.Items)
        {
            var same = full.Items.Single(i => i.Id == item.Id);
            Assert.Equal(same.Answer, item.Answer);
            Assert.Equal(same.Question, item.Question);
        }
    }

    [Fact]
    public void Answer_UsesOverriddenThresholds_WhenGiven()
    {
        var metrics = GoodMetrics with { CandidatePerplexity = 11.0, MeanKl = 0.08, Top1Agreement = 0.85 };
        var defaults = RubricEngine.Answer(Quantize4Bit(metrics), RubricBank.Standard);
        var relaxed = RubricEngine.Answer(Quantize4Bit(metrics, new RubricOverrides
        {
            MaxPerplexityIncrease = 0.2,
            MaxMeanKl = 0.1,
            MinTop1Agreement = 0.8,
        }), RubricBank.Standard);

        Assert.Equal("fail", defaults.Verdict);
        Assert.Equal("pass", relaxed.Verdict);
        Assert.Equal(1.0, relaxed.Score);
        Assert.Contains("20 %", relaxed.Items.Single(i => i.Id == "quality.perplexity_within_tolerance").Question);
        Assert.Contains("5 %", defaults.Items.Single(i => i.Id == "quality.perplexity_within_tolerance").Question);
    }

    [Fact]
    public void Answer_AsksNoComparisonQuestions_WhenThereIsNoBaseline()
    {
        var context = Quantize4Bit(GoodMetrics) with { HasBaseline = false };
        var card = RubricEngine.Answer(context, RubricBank.Standard);

        Assert.DoesNotContain(card.Items, i => i.Category == "quality");
        Assert.Contains(card.Items, i => i.Id == "integrity.all_tensors_finite");
    }

    [Fact]
    public void Answer_FailsIntegrity_WhenATensorIsNotFinite()
    {
        var card = RubricEngine.Answer(Quantize4Bit(GoodMetrics with { AllTensorsFinite = false, NonFiniteTensors = ["x"] }), RubricBank.Standard);

        Assert.False(card.Items.Single(i => i.Id == "integrity.all_tensors_finite").Answer);
        Assert.Equal("fail", card.Verdict);
    }

    [Fact]
    public void Answer_FailsSizeBudget_WhenOutputIsNearlyFp16()
    {
        var card = RubricEngine.Answer(Quantize4Bit(GoodMetrics with { SizeBytes = 900_000 }), RubricBank.Standard);

        Assert.False(card.Items.Single(i => i.Id == "efficiency.size_within_budget").Answer);
    }

    [Fact]
    public void Thresholds_AreLooserAndNonCritical_At2Bits()
    {
        var at2 = RubricThresholds.For(Quantize4Bit(GoodMetrics) with { Bits = 2 });
        var at3 = RubricThresholds.For(Quantize4Bit(GoodMetrics) with { Bits = 3 });
        var at4 = RubricThresholds.For(Quantize4Bit(GoodMetrics));

        Assert.Equal(0.05, at4.MaxPerplexityIncrease);
        Assert.Equal(0.15, at3.MaxPerplexityIncrease);
        Assert.False(at2.PerplexityCritical);
        Assert.True(at4.PerplexityCritical);
    }

    [Fact]
    public void Answer_AddsBlockChildren_WhenPerplexityFailsAndBlockErrorsAreKnown()
    {
        var metrics = GoodMetrics with { CandidatePerplexity = 12, BlockOutputErrors = [0.01, 0.2] };
        var card = RubricEngine.Answer(Quantize4Bit(metrics), RubricBank.Standard);

        var children = card.Items.Single(i => i.Id == "quality.perplexity_within_tolerance").Children;
        Assert.Equal(2, children.Count);
        Assert.True(children[0].Answer);
        Assert.False(children[1].Answer);
    }
}
