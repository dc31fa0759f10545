using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.Tests.Codecs;

/// <summary>PTQTP invariants of ALGORITHMS.md 1.7 on tiny groups.</summary>
public sealed class TritPlaneFitTests
{
    private static float[] Gaussian(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))
            .ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Fit_ErrorIsNonIncreasingAcrossIterations_AndTritsAreTernary(int seed)
    {
        var w = Gaussian(128, seed);
        var t1 = new sbyte[128];
        var t2 = new sbyte[128];
        var trace = new List<double>();
        var (a1, a2, error) = TritPlaneFit.Fit(w, t1, t2, new TritPlaneFitOptions(50, 0, 0), trace);

        Assert.True(trace.Count >= 2, "at least one iteration runs");
        for (var i = 1; i < trace.Count; i++)
        {
            Assert.True(trace[i] <= trace[i - 1] * (1 + 1e-12), $"iteration {i}: {trace[i]} > {trace[i - 1]}");
        }
        Assert.All(t1, t => Assert.InRange(t, -1, 1));
        Assert.All(t2, t => Assert.InRange(t, -1, 1));
        Assert.Equal(trace[^1], error, 9);
        Assert.Equal(TritPlaneFit.Error(w, t1, t2, a1, a2), error, 3);
        // Two trit planes beat one ternary plane with its best scale by a clear margin on Gaussian data.
        var norm = w.Sum(v => (double)v * v);
        Assert.True(error < 0.2 * norm, $"relative error {error / norm:0.###}");
    }

    [Fact]
    public void Fit_RecoversDisjointTwoPlaneSignal()
    {
        var random = new Random(11);
        var w = new float[64];
        for (var j = 0; j < 64; j++)
        {
            var sign = random.Next(2) == 0 ? -1 : 1;
            // t_a on even positions with scale 2, t_b on odd ones with scale 0.5: disjoint supports.
            w[j] = j % 2 == 0 ? 2f * sign : 0.5f * sign;
        }
        var (a1, a2, error) = TritPlaneFit.Fit(w, new sbyte[64], new sbyte[64], new TritPlaneFitOptions());
        Assert.True(error < 1e-6, $"error {error}");
        Assert.Equal(2f, a1, 1e-5f);
        Assert.Equal(0.5f, a2, 1e-5f);
    }

    [Fact]
    public void SolveScales_FallsBackToOnePlane_WhenPlanesAreDependent()
    {
        float[] w = [1f, -2f, 3f];
        sbyte[] t = [1, -1, 1];
        var (a1, a2) = TritPlaneFit.SolveScales(w, t, t, 0);
        Assert.Equal(2.0, a1, 9);
        Assert.Equal(0.0, a2);
    }

    [Fact]
    public void Quantizer_DequantizesToTheFittedPlanes()
    {
        const int rows = 3, columns = 40, groupSize = 20;
        var w = Gaussian(rows * columns, 9);
        var plane1 = new byte[TritPlaneQuantizer.PlaneLength(rows, columns)];
        var plane2 = new byte[plane1.Length];
        var alphas = new float[rows * 2 * 2];
        var error = TritPlaneQuantizer.Quantize(w, rows, columns, groupSize, new TritPlaneFitOptions(), plane1, plane2, alphas);
        var restored = new float[w.Length];
        TritPlaneQuantizer.Dequantize(plane1, plane2, alphas, rows, columns, groupSize, restored);
        var measured = w.Zip(restored, (a, b) => (double)(a - b) * (a - b)).Sum();
        Assert.Equal(error, measured, 3);
    }
}
