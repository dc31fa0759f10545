using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.Tests.Codecs;

public sealed class SignPackingTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(1000)]
    public void PackUnpack_RoundTripsSigns_ZeroAsPlus(int count)
    {
        var random = new Random(count);
        var values = Enumerable.Range(0, count).Select(i => i % 5 == 0 ? 0f : (float)(random.NextDouble() - 0.5)).ToArray();
        var packed = new byte[SignPacking.PackedLength(count)];
        SignPacking.Pack(values, packed);
        var signs = new float[count];
        SignPacking.Unpack(packed, signs);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(values[i] < 0 ? -1f : 1f, signs[i]);
        }
    }

    [Fact]
    public void Pack_PutsFirstElementInLowestBit()
    {
        var packed = new byte[1];
        SignPacking.Pack([-1f, 1f, 1f, 1f, 1f, 1f, 1f, -2f], packed);
        Assert.Equal(0b1000_0001, packed[0]);
    }
}
