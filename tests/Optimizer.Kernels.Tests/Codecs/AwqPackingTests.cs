using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.Tests.Codecs;

public class AwqPackingTests
{
    [Fact]
    public void Pack_PutsColumnsInAwqOrder_WithinAWord()
    {
        int[] columns = [0, 1, 2, 3, 4, 5, 6, 7];
        var packed = new int[1];

        AwqPacking.Pack(columns, 1, 8, packed);

        // Nibble j holds column (0, 2, 4, 6, 1, 3, 5, 7)[j], nibble 0 lowest.
        Assert.Equal(0x75316420, packed[0]);
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(3, 16)]
    [InlineData(5, 64)]
    public void Pack_RoundTrips_ForRandomCodes(int rows, int columns)
    {
        var random = new Random(rows * 100 + columns);
        var values = Enumerable.Range(0, rows * columns).Select(_ => random.Next(16)).ToArray();
        var packed = new int[rows * columns / 8];
        var back = new int[values.Length];

        AwqPacking.Pack(values, rows, columns, packed);
        AwqPacking.Unpack(packed, rows, columns, back);

        Assert.Equal(values, back);
    }

    [Fact]
    public void Pack_Throws_WhenColumnsAreNotAMultipleOfEight()
    {
        Assert.Throws<ArgumentException>(() => AwqPacking.Pack(new int[12], 1, 12, new int[1]));
    }

    [Theory]
    [InlineData(16, 32, 8)]
    [InlineData(8, 24, -1)]
    public void AwqLinear_DequantizesEveryCode_WithItsGroupsScaleAndZero(int outFeatures, int inFeatures, int groupSize)
    {
        var random = new Random(outFeatures + inFeatures);
        var groups = groupSize == -1 ? 1 : inFeatures / groupSize;
        var size = inFeatures / groups;
        var codes = Enumerable.Range(0, outFeatures * inFeatures).Select(_ => (byte)random.Next(16)).ToArray();
        var scales = Enumerable.Range(0, outFeatures * groups).Select(_ => (float)(Half)(0.01 + random.NextDouble() * 0.1)).ToArray();
        var zeros = Enumerable.Range(0, outFeatures * groups).Select(_ => random.Next(16)).ToArray();

        var linear = AwqLinear.Pack(codes, scales, zeros, outFeatures, inFeatures, groupSize);
        var dense = new float[outFeatures * inFeatures];
        linear.Dequantize(dense);

        Assert.Equal(inFeatures * outFeatures / 8, linear.QWeight.Length);
        Assert.Equal(groups * outFeatures / 8, linear.QZeros.Length);
        for (var o = 0; o < outFeatures; o++)
        {
            for (var i = 0; i < inFeatures; i++)
            {
                var g = o * groups + i / size;
                Assert.Equal(scales[g] * (codes[o * inFeatures + i] - zeros[g]), dense[o * inFeatures + i]);
            }
        }
    }
}
