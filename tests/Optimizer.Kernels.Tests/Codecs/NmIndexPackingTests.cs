using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.Tests.Codecs;

public sealed class NmIndexPackingTests
{
    [Theory]
    [InlineData(2, 1)]
    [InlineData(4, 2)]
    [InlineData(8, 4)]
    [InlineData(16, 4)]
    [InlineData(64, 8)]
    public void IndexBits_IsTheSmallestPowerOfTwoWidthThatFits(int m, int bits)
    {
        Assert.Equal(bits, NmIndexPacking.IndexBits(m));
    }

    [Fact]
    public void Pack_PutsTwoFourGroupsLowBitsFirst()
    {
        // Row of two 2:4 groups keeping columns (0, 3) and (1, 2): 0 | 3<<2 | 1<<4 | 2<<6.
        byte[] packed = new byte[1];

        NmIndexPacking.Pack([0, 3, 1, 2], rows: 1, indicesPerRow: 4, bits: 2, packed);

        Assert.Equal((byte)(0 | 3 << 2 | 1 << 4 | 2 << 6), packed[0]);
    }

    [Theory]
    [InlineData(4, 0)]
    [InlineData(4, 1)]
    [InlineData(8, 7)]
    [InlineData(16, 33)]
    [InlineData(64, 5)]
    public void Unpack_RoundTrips_IncludingPaddedRowEnds(int m, int indicesPerRow)
    {
        var bits = NmIndexPacking.IndexBits(m);
        var random = new Random(m * 100 + indicesPerRow);
        var indices = Enumerable.Range(0, 3 * indicesPerRow).Select(_ => (byte)random.Next(m)).ToArray();
        var packed = new byte[3 * NmIndexPacking.RowBytes(indicesPerRow, bits)];
        var unpacked = new byte[indices.Length];

        NmIndexPacking.Pack(indices, 3, indicesPerRow, bits, packed);
        NmIndexPacking.Unpack(packed, 3, indicesPerRow, bits, unpacked);

        Assert.Equal(indices, unpacked);
    }

    [Fact]
    public void Pack_Throws_WhenAnIndexDoesNotFit()
    {
        Assert.Throws<ArgumentException>(() => NmIndexPacking.Pack([4], 1, 1, 2, new byte[1]));
    }
}
