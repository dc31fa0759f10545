using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.Tests.Codecs;

/// <summary>Exhaustive checks of the five-trits-per-byte packing (ALGORITHMS.md 1.7).</summary>
public sealed class TritPackingTests
{
    [Fact]
    public void PackUnpack_RoundTrips_All243TritCombinations()
    {
        var seen = new HashSet<byte>();
        for (var n = 0; n < 243; n++)
        {
            var trits = new sbyte[5];
            var rest = n;
            for (var i = 0; i < 5; i++)
            {
                trits[i] = (sbyte)(rest % 3 - 1);
                rest /= 3;
            }
            var packed = new byte[1];
            TritPacking.Pack(trits, packed);
            Assert.Equal(n, packed[0]);
            seen.Add(packed[0]);
            var back = new sbyte[5];
            TritPacking.Unpack(packed, back);
            Assert.Equal(trits, back);
        }
        Assert.Equal(243, seen.Count);
    }

    [Theory]
    [InlineData(243)]
    [InlineData(255)]
    public void Unpack_Throws_OnBytesAbove242(byte value)
    {
        Assert.Throws<ArgumentException>(() => TritPacking.Unpack([value], new sbyte[5]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(128)]
    [InlineData(1001)]
    public void PackUnpack_RoundTrips_AnyLength(int count)
    {
        var random = new Random(count);
        var trits = Enumerable.Range(0, count).Select(_ => (sbyte)random.Next(-1, 2)).ToArray();
        var packed = new byte[TritPacking.PackedLength(count)];
        Assert.Equal((count + 4) / 5, packed.Length);
        TritPacking.Pack(trits, packed);
        Assert.All(packed, b => Assert.True(b <= 242));
        var back = new sbyte[count];
        TritPacking.Unpack(packed, back);
        Assert.Equal(trits, back);
    }

    [Fact]
    public void Pack_PadsTailWithZeroTrits()
    {
        var packed = new byte[1];
        TritPacking.Pack([(sbyte)1], packed);
        // digit 2 for the +1, then four zero trits (digit 1): 2 + 3 + 9 + 27 + 81.
        Assert.Equal(122, packed[0]);
    }

    [Fact]
    public void Pack_Throws_OnNonTrit()
    {
        Assert.Throws<ArgumentException>(() => TritPacking.Pack([(sbyte)2], new byte[1]));
    }
}
