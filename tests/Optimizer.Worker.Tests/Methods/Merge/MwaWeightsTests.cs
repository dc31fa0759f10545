using Optimizer.Domain.Methods.Merge.Mwa;
using Optimizer.Worker.Methods.Merge.Mwa;

namespace Optimizer.Worker.Tests.Methods.Merge;

/// <summary>ALGORITHMS.md 3.6: MWA weights sum to 1; equal metrics (or p = 0) give uniform weights.</summary>
public sealed class MwaWeightsTests
{
    private static readonly MwaCheckpoint[] s_run =
    [
        new("mdl_a", 100, 3.2),
        new("mdl_b", 200, 2.9),
        new("mdl_c", 300, 2.7),
        new("mdl_d", 400, 2.75),
    ];

    [Theory]
    [InlineData(MwaOptions.LossMetric, 1.0)]
    [InlineData(MwaOptions.LossMetric, 7.5)]
    [InlineData(MwaOptions.StepMetric, 2.0)]
    [InlineData(MwaOptions.StepMetric, 60.0)]
    public void Compute_WeightsSumToOne(string metric, double penalty)
    {
        var weights = MwaWeights.Compute(s_run, metric, penalty);

        Assert.Equal(1.0, weights.Sum(), 12);
        Assert.All(weights, w => Assert.True(w > 0 && w < 1));
    }

    [Fact]
    public void Compute_GivesUniformWeights_WhenMetricsAreEqual()
    {
        MwaCheckpoint[] same = [new("a", 10, 2.5), new("b", 20, 2.5), new("c", 30, 2.5)];

        var weights = MwaWeights.Compute(same, MwaOptions.LossMetric, 3.0);

        Assert.All(weights, w => Assert.Equal(1.0 / 3, w, 12));
    }

    [Fact]
    public void Compute_GivesUniformWeights_WhenThePenaltyIsZero()
    {
        var weights = MwaWeights.Compute(s_run, MwaOptions.StepMetric, 0);

        Assert.All(weights, w => Assert.Equal(0.25, w, 12));
    }

    [Fact]
    public void Compute_FavoursLowerLossAndLaterSteps()
    {
        var byLoss = MwaWeights.Compute(s_run, MwaOptions.LossMetric, 2.0);
        var byStep = MwaWeights.Compute(s_run, MwaOptions.StepMetric, 1.0);

        Assert.Equal(2, Array.IndexOf(byLoss, byLoss.Max()));
        Assert.Equal(0, Array.IndexOf(byLoss, byLoss.Min()));
        // t^1 / Σt: 400 / 1000.
        Assert.Equal(0.4, byStep[3], 12);
        // L^-2 of 2.7 against 3.2: (3.2/2.7)^2 times more weight.
        Assert.Equal(Math.Pow(3.2 / 2.7, 2), byLoss[2] / byLoss[0], 9);
    }
}
