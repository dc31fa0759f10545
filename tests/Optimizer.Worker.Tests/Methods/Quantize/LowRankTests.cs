using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Fp4;
using Optimizer.Worker.Methods.Quantize.Shared;

namespace Optimizer.Worker.Tests.Methods.Quantize;

/// <summary>LoRC's Eckart–Young invariant (ALGORITHMS.md 1.6, test 3).</summary>
public sealed class LowRankTests
{
    private static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    private static double Norm(IEnumerable<double> values) => Math.Sqrt(values.Sum(v => v * v));

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    public void Factor_ResidualEqualsTailSingularValues_EckartYoung(int rank)
    {
        const int rows = 24, columns = 40;
        var w = Random(rows * columns, rank);
        // E = W − Q(W) for FP4 with group size 8, as LoRC sees it.
        var linear = Fp4Linear.Quantize(w, rows, columns, new Fp4Spec(8, Fp4ScaleConstraint.None, 0));
        var error = linear.Dequantize().Select((q, i) => w[i] - q).ToArray();

        var (u, v, sigma) = LowRank.Factor(error, rows, columns, rank);
        var approx = new float[error.Length];
        LowRank.AddProduct(u, v, rows, rank, columns, approx);
        var residual = Norm(error.Select((e, i) => (double)e - approx[i]));

        var tail = Norm(sigma.Skip(rank).Select(s => (double)s));
        Assert.Equal(tail, residual, tail * 1e-4);
        Assert.True(residual < Norm(error.Select(e => (double)e)));
    }

    [Fact]
    public void Fp4LinearWithLorc_ReachesEckartYoungBound_UpToFloat16Factors()
    {
        const int rows = 32, columns = 64, rank = 6;
        var w = Random(rows * columns, 99);
        var plain = Fp4Linear.Quantize(w, rows, columns, new Fp4Spec(16, Fp4ScaleConstraint.Pow2, 0));
        var error = plain.Dequantize().Select((q, i) => w[i] - q).ToArray();
        var (_, _, sigma) = LowRank.Factor(error, rows, columns, rank);

        var compensated = Fp4Linear.Quantize(w, rows, columns, new Fp4Spec(16, Fp4ScaleConstraint.Pow2, rank));
        var residual = Norm(compensated.Dequantize().Select((q, i) => (double)w[i] - q));

        var bound = Norm(sigma.Skip(rank).Select(s => (double)s));
        Assert.Equal(rank, compensated.LorcRank);
        Assert.InRange(residual, bound * 0.999, bound * 1.01);
    }
}
