using Optimizer.Worker.Spectral;
using TorchSharp;

namespace Optimizer.Worker.Tests.Spectral;

/// <summary>ALGORITHMS.md Part C 2.5: the Hill estimator and FARMS submatrix sampling.</summary>
public sealed class EsdAlphaTests
{
    [Fact]
    public void Hill_RecoversAlphaThree_OnSyntheticParetoSamples()
    {
        // λ = u^(-1/(α-1)) is Pareto with exponent α and xmin = 1.
        var random = new Random(20261127);
        var samples = Enumerable.Range(0, 100_000).Select(_ => Math.Pow(1 - random.NextDouble(), -1.0 / (3 - 1))).Order().ToArray();

        var alpha = EsdAlpha.Hill(samples, 0);

        Assert.InRange(alpha, 2.95, 3.05);
    }

    [Fact]
    public void HillXminMid_FitsTheUpperHalfOnly()
    {
        // A flat lower half would drag a full fit; xmin_mid starts at the median.
        var random = new Random(5);
        var tail = Enumerable.Range(0, 50_000).Select(_ => Math.Pow(1 - random.NextDouble(), -1.0 / 3)).ToArray();
        var head = Enumerable.Repeat(1e-3, 50_000);
        var samples = head.Concat(tail).Order().ToArray();

        var alpha = EsdAlpha.HillXminMid(samples);

        Assert.InRange(alpha, 3.9, 4.1);
    }

    [Fact]
    public void Hill_IsNaN_WhenTheTailIsFlat()
    {
        Assert.True(double.IsNaN(EsdAlpha.Hill([2.0, 2.0, 2.0, 2.0], 1)));
    }

    [Theory]
    [InlineData(4096, 4096, 100, 200, 100)]
    [InlineData(11008, 4096, 100, 200, 100)]
    [InlineData(384, 128, 64, 128, 10)]
    [InlineData(128, 128, 64, 128, 10)]
    [InlineData(128, 384, 100, 200, 100)]
    [InlineData(30, 1000, 30, 60, 10)]
    public void Windows_KeepTheAspectRatio_AndStayInside(long rows, long columns, long windowRows, long windowColumns, int count)
    {
        var windows = SubmatrixWindows.For(rows, columns, FarmsSampling.Default);

        Assert.Equal((windowRows, windowColumns, count), (windows.Rows, windows.Columns, windows.Count));
        Assert.All(windows.Starts, s =>
        {
            Assert.InRange(s.Row, 0, rows - windows.Rows);
            Assert.InRange(s.Column, 0, columns - windows.Columns);
        });
        Assert.Equal(windows.Count, windows.Starts.Distinct().Count());
    }

    [Fact]
    public void Farms_AgreesAcrossAspectRatios_BetterThanFullMatrixAlpha_OnGaussianMatrices()
    {
        // ALGORITHMS.md 2.5 test 4, scaled down from 4096×4096 vs 11008×4096 (same aspect ratios) to stay quick.
        torch.manual_seed(3);
        using var square = torch.randn(512, 512);
        using var tall = torch.randn(1376, 512);

        var farmsGap = Math.Abs(EsdAlpha.Farms(square).Alpha - EsdAlpha.Farms(tall).Alpha);
        var fullGap = Math.Abs(EsdAlpha.FullMatrix(square).Alpha - EsdAlpha.FullMatrix(tall).Alpha);

        Assert.True(farmsGap < fullGap, $"FARMS gap {farmsGap:0.####} is not below the full-matrix gap {fullGap:0.####}");
    }

    [Fact]
    public void Farms_PoolsEveryWindowsEigenvalues()
    {
        torch.manual_seed(1);
        using var weight = torch.randn(384, 128);

        var fit = EsdAlpha.Farms(weight);

        Assert.Equal(10 * 64, fit.Eigenvalues);
        Assert.Equal(10, fit.Windows);
        Assert.True(double.IsFinite(fit.Alpha) && fit.Alpha > 1, $"alpha {fit.Alpha}");
    }
}
