using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.Tests.Codecs;

public sealed class Fp4QuantizerTests
{
    private static float[] Random(int count, int seed, float scale = 0.1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale * (1 + random.Next(4))).ToArray();
    }

    private static (float[] Restored, float[] Groups, float[] Rows) RoundTrip(float[] w, int rows, int columns, int groupSize, Fp4ScaleConstraint constraint)
    {
        var groups = new float[rows * Fp4Quantizer.GroupCount(columns, groupSize)];
        var rowScales = new float[rows];
        Fp4Quantizer.ComputeScales(w, rows, columns, groupSize, constraint, groups, rowScales);
        var packed = new byte[rows * columns / 2];
        Fp4Quantizer.Encode(w, groups, rowScales, rows, columns, groupSize, packed);
        var restored = new float[w.Length];
        Fp4Quantizer.Dequantize(packed, groups, rowScales, rows, columns, groupSize, restored);
        return (restored, groups, rowScales);
    }

    [Theory]
    [InlineData(Fp4ScaleConstraint.None)]
    [InlineData(Fp4ScaleConstraint.Pow2)]
    [InlineData(Fp4ScaleConstraint.RowPow2)]
    public void Dequantize_IsWithinHalfAGridStep_AndOnTheScaledGrid(Fp4ScaleConstraint constraint)
    {
        const int rows = 6, columns = 64, groupSize = 16;
        var w = Random(rows * columns, 3);
        var (restored, groups, rowScales) = RoundTrip(w, rows, columns, groupSize, constraint);
        for (var i = 0; i < w.Length; i++)
        {
            var scale = rowScales[i / columns] * groups[i / columns * (columns / groupSize) + i % columns / groupSize];
            var v = restored[i] / scale;
            Assert.Contains(Math.Abs(v), Fp4.Magnitudes.ToArray().Select(m => m));
            // The widest gap of the grid (4 → 6) bounds the error: at most half of it, times the scale.
            Assert.True(Math.Abs(w[i] - restored[i]) <= scale * 1.0001f, $"{i}: {w[i]} vs {restored[i]} at scale {scale}");
            Assert.True(Math.Abs(w[i] / scale) <= Fp4.MaxValue * 1.0001f, "the scale must cover the group's absmax");
        }
    }

    [Fact]
    public void ComputeScales_GivesAbsmaxOverSix_WithoutConstraint()
    {
        float[] w = [0.3f, -1.2f, 0.1f, 0.0f, 0f, 0f, 0f, 0f];
        var groups = new float[2];
        var rows = new float[1];
        Fp4Quantizer.ComputeScales(w, 1, 8, 4, Fp4ScaleConstraint.None, groups, rows);
        Assert.Equal(0.2f, groups[0], 1e-7f);
        Assert.Equal(1f, groups[1]);
        Assert.Equal(1f, rows[0]);
    }

    [Fact]
    public void ComputeScales_GivesExactPowersOfTwo_UnderPow2()
    {
        var w = Random(8 * 128, 5);
        var groups = new float[8 * 4];
        var rows = new float[8];
        Fp4Quantizer.ComputeScales(w, 8, 128, 32, Fp4ScaleConstraint.Pow2, groups, rows);
        for (var i = 0; i < groups.Length; i++)
        {
            Assert.True(IsPowerOfTwo(groups[i]), $"{groups[i]} is not a power of two");
            var absMax = w.AsSpan(i * 32, 32).ToArray().Max(MathF.Abs);
            // Ceil: the smallest power of two that still covers the absmax.
            Assert.InRange(groups[i], absMax / 6f, 2 * absMax / 6f);
        }
        Assert.All(rows, r => Assert.Equal(1f, r));
    }

    [Fact]
    public void ComputeScales_GivesPowerOfTwoRatiosToTheRowScale_UnderRowPow2()
    {
        var w = Random(8 * 128, 7);
        var groups = new float[8 * 4];
        var rows = new float[8];
        Fp4Quantizer.ComputeScales(w, 8, 128, 32, Fp4ScaleConstraint.RowPow2, groups, rows);
        for (var r = 0; r < 8; r++)
        {
            var groupMax = Enumerable.Range(0, 4).Max(g => w.AsSpan(r * 128 + g * 32, 32).ToArray().Max(MathF.Abs));
            Assert.Equal(groupMax / 6f, rows[r], 1e-7f);
            for (var g = 0; g < 4; g++)
            {
                var ratio = groups[r * 4 + g];
                Assert.True(IsPowerOfTwo(ratio) && ratio <= 1f, $"{ratio} is not 2^-k");
                var absMax = w.AsSpan(r * 128 + g * 32, 32).ToArray().Max(MathF.Abs);
                Assert.InRange(rows[r] * ratio, absMax / 6f * 0.9999f, 2 * absMax / 6f);
            }
        }
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(0.375f)]
    [InlineData(1e-3f)]
    [InlineData(96f)]
    public void E8M0_RoundTripsPowersOfTwo(float value)
    {
        var pow2 = Fp4Quantizer.CeilPow2(value);
        Assert.True(IsPowerOfTwo(pow2) && pow2 >= value && pow2 < 2 * value);
        Assert.Equal(pow2, Fp4Quantizer.FromE8M0(Fp4Quantizer.ToE8M0(pow2)));
    }

    [Fact]
    public void Encode_Throws_WhenGroupDoesNotDivideColumns()
    {
        var groups = new float[2];
        var rows = new float[1];
        Assert.Throws<ArgumentException>(() =>
            Fp4Quantizer.ComputeScales(new float[24], 1, 24, 16, Fp4ScaleConstraint.None, groups, rows));
    }

    private static bool IsPowerOfTwo(float value) => value > 0 && MathF.ScaleB(1f, MathF.ILogB(value)) == value;
}
