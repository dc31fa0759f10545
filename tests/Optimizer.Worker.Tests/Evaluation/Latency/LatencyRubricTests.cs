using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Evaluation.Latency;

namespace Optimizer.Worker.Tests.Evaluation.Latency;

public sealed class LatencyRubricTests
{
    private const string Id = "efficiency.faster_than_baseline";

    /// <summary>The all-yes metrics of <see cref="RubricEngineTests"/> with the given latency.</summary>
    private static EvaluationMetrics Metrics(LatencyMeasurement? latency) => RubricEngineTests.GoodMetrics with { Latency = latency };

    private static RubricContext Quantized(LatencyMeasurement? latency) =>
        new("quantize", "rtn", 4, 128, IsCausalLm: true, HasBaseline: true, Metrics(latency), null);

    [Fact]
    public void Answer_DoesNotAskLatency_WhenNoKernelRanTheFormat()
    {
        var card = RubricEngine.Answer(Quantized(null), RubricBank.Standard);

        Assert.DoesNotContain(card.Items, i => i.Id == Id);
    }

    [Theory]
    [InlineData(0.8, 1.0, true)]
    [InlineData(1.0, 1.0, true)]
    [InlineData(1.25, 1.0, false)]
    public void Answer_ChecksSpeedupOfAtLeastOne_WhenKernelsRan(double msPerToken, double baselineMsPerToken, bool expected)
    {
        var latency = new LatencyMeasurement(msPerToken, baselineMsPerToken, 14, ["int4 g128"], DecodeLatency.Repetitions);

        var card = RubricEngine.Answer(Quantized(latency), RubricBank.Standard);

        var item = card.Items.Single(i => i.Id == Id);
        Assert.Equal("efficiency", item.Category);
        Assert.Equal(expected, item.Answer);
        Assert.Equal(baselineMsPerToken / msPerToken, (double)item.Evidence["speedup"]!, 12);
        Assert.Contains("1.0×", item.Question);
        // Slower than fp32 costs score, not the verdict: the speed depends on the worker's CPU and its load.
        Assert.False(item.Critical);
        Assert.Equal("pass", card.Verdict);
    }
}
