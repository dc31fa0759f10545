using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.Tests.Codecs;

public class RtnQuantizerTests
{
    private static readonly float[] s_example = [-1.0f, -0.25f, 0.0f, 0.65f, 2.0f];

    [Fact]
    public void Quantize_MatchesWorkedExample_WhenAsymmetric4Bit()
    {
        var codes = new byte[5];
        var scales = new float[1];
        var zeros = new int[1];
        RtnQuantizer.Quantize(s_example, 1, 5, new RtnSpec(4, -1, false), codes, scales, zeros);
        Assert.Equal(0.2f, scales[0], 1e-6f);
        Assert.Equal(5, zeros[0]);
        Assert.Equal(new byte[] { 0, 4, 5, 8, 15 }, codes);

        var restored = new float[5];
        RtnQuantizer.Dequantize(codes, scales, zeros, 1, 5, -1, restored);
        float[] expected = [-1.0f, -0.2f, 0.0f, 0.6f, 2.0f];
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(expected[i], restored[i], 1e-6f);
        }
    }

    [Fact]
    public void FindParams_ForcesZeroIntoRange_WhenAllWeightsPositive()
    {
        var (scale, zero) = RtnQuantizer.FindParams([0.5f, 1.5f], 4, symmetric: false);
        Assert.Equal(0, zero);
        Assert.Equal(1.5f / 15, scale, 1e-7f);
    }

    [Fact]
    public void FindParams_UsesUnitRange_WhenGroupIsAllZero()
    {
        var (scale, zero) = RtnQuantizer.FindParams([0f, 0f, 0f], 4, symmetric: false);
        Assert.Equal(2f / 15, scale, 1e-7f);
        // In float32, 1 / (2/15) is 7.4999996, not a tie: the zero is 7, as in torch.
        Assert.Equal(7, zero);
    }

    [Fact]
    public void FindParams_UsesMidpointZero_WhenSymmetric()
    {
        var (scale, zero) = RtnQuantizer.FindParams([-1.0f, 0.3f, 2.0f], 4, symmetric: true);
        Assert.Equal(8, zero);
        Assert.Equal(4f / 15, scale, 1e-7f);
    }

    [Fact]
    public void QuantizeValue_RoundsHalfToEven_WhenExactlyOnATie()
    {
        // 0.5 / 1 and 1.5 / 1 are ties: half to even gives 0 and 2.
        Assert.Equal(0, RtnQuantizer.QuantizeValue(0.5f, 1f, 0, 15));
        Assert.Equal(2, RtnQuantizer.QuantizeValue(1.5f, 1f, 0, 15));
        Assert.Equal(2, RtnQuantizer.QuantizeValue(2.5f, 1f, 0, 15));
    }

    [Theory]
    [InlineData(2, 8, false)]
    [InlineData(3, 16, false)]
    [InlineData(4, 32, false)]
    [InlineData(4, -1, true)]
    [InlineData(5, 8, true)]
    [InlineData(8, -1, false)]
    public void Quantize_SatisfiesInvariants_OnRandomWeights(int bits, int groupSize, bool symmetric)
    {
        const int rows = 7;
        const int cols = 64;
        var weight = RandomWeights(rows * cols, seed: bits * 31 + groupSize);
        var spec = new RtnSpec(bits, groupSize, symmetric);
        var groups = spec.GroupCount(cols);
        var size = spec.EffectiveGroupSize(cols);
        var codes = new byte[rows * cols];
        var scales = new float[rows * groups];
        var zeros = new int[rows * groups];
        RtnQuantizer.Quantize(weight, rows, cols, spec, codes, scales, zeros);
        var restored = new float[rows * cols];
        RtnQuantizer.Dequantize(codes, scales, zeros, rows, cols, groupSize, restored);

        for (var k = 0; k < weight.Length; k++)
        {
            var g = k / cols * groups + k % cols / size;
            var (s, z) = (scales[g], zeros[g]);
            Assert.InRange(codes[k], 0, spec.MaxQ);
            var unclipped = MathF.Round(weight[k] / s) + z is >= 0 and var v && v <= spec.MaxQ;
            if (unclipped)
            {
                Assert.True(MathF.Abs(weight[k] - restored[k]) <= s / 2 * (1 + 1e-5f),
                    $"|w - ŵ| = {MathF.Abs(weight[k] - restored[k])} > s/2 = {s / 2} at {k}");
            }
            // Requantizing ŵ on the same grid gives back the same code.
            Assert.Equal(codes[k], RtnQuantizer.QuantizeValue(restored[k], s, z, spec.MaxQ));
        }
    }

    [Fact]
    public void Quantize_ReproducesCodes_WhenRequantizingWorkedExampleOutput()
    {
        var codes = new byte[5];
        RtnQuantizer.Quantize(s_example, 1, 5, new RtnSpec(4, -1, false), codes, new float[1], new int[1]);
        float[] restored = [-1.0f, -0.2f, 0.0f, 0.6f, 2.0f];
        var again = new byte[5];
        RtnQuantizer.Quantize(restored, 1, 5, new RtnSpec(4, -1, false), again, new float[1], new int[1]);
        Assert.Equal(codes, again);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public void Quantize_Throws_WhenBitsOutOfRange(int bits)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            RtnQuantizer.Quantize(new float[8], 1, 8, new RtnSpec(bits, -1, false), new byte[8], new float[1], new int[1]));
    }

    [Fact]
    public void Quantize_Throws_WhenGroupSizeDoesNotDivideRow()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            RtnQuantizer.Quantize(new float[12], 1, 12, new RtnSpec(4, 8, false), new byte[12], new float[1], new int[1]));
        Assert.Equal("GroupSize", ex.ParamName);
    }

    internal static float[] RandomWeights(int count, int seed)
    {
        var random = new Random(seed);
        var weights = new float[count];
        for (var k = 0; k < count; k++)
        {
            // Roughly normal with a few outliers, like real linear weights.
            weights[k] = (float)((random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5) * 0.1);
        }
        weights[count / 3] = 0.9f;
        return weights;
    }
}
